"""„Mein Konto“, sessions that can be ended, „Passwort vergessen?“ and two-factor sign-in, through
the routes (full pages, htmx partials, refusals)."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import event, select

from tests import factories
from tests.conftest import HTMX, login
from webapp.models import MailMessage, Role, UserSession, utcnow
from webapp.services import accounts, password_reset

PASSWORD = "secret-password-1"


def copy_of(app, client):
    """A second browser holding a copy of this client's session cookie."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


@pytest.fixture
def admin(db_session):
    customer = factories.customer(db_session)
    factories.contract(db_session, customer)
    return factories.user(db_session, email="konto@test.example", roles=[(Role.IPFONIE_ADMIN, customer)])


# --- sessions that end ------------------------------------------------------------------------------


def test_sign_out_ends_a_copied_session_cookie_too(app, client):
    login(client, "admin@muster.example")
    thief = copy_of(app, client)
    assert thief.get("/ums").status_code == 200  # the copy works while the session is open
    client.post("/logout")
    assert client.get("/ums").status_code == 302
    assert thief.get("/ums").status_code == 302  # and stops with the sign-out
    assert thief.get("/ums", headers=HTMX).headers["HX-Redirect"].startswith("/login")


def test_a_cookie_without_an_open_session_row_is_signed_out(app, client, db_session):
    login(client, "admin@muster.example")
    for row in db_session.scalars(select(UserSession)):
        row.ended_at = utcnow()
    db_session.flush()
    assert client.get("/ums").status_code == 302


def test_the_session_check_adds_no_query_per_request(app, client, db_session):
    login(client, "anna.schmidt@muster.example")
    client.get("/me")
    statements: list[str] = []
    engine = app.extensions["db"].engine

    def _count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", _count)
    try:
        client.get("/me")
    finally:
        event.remove(engine, "before_cursor_execute", _count)
    session_lookups = [s for s in statements if "user_sessions" in s]
    assert len(session_lookups) == 1 and "JOIN users" in session_lookups[0]
    assert not any(s.lstrip().upper().startswith("UPDATE") for s in statements)  # no write within a minute


def test_the_account_page_lists_the_sessions_with_device_and_last_use(app, client, admin):
    login(client, admin.email, PASSWORD)
    phone = app.test_client()
    phone.post("/login", data={"email": admin.email, "password": PASSWORD},
               headers={"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
                                      "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"},
               environ_base={"REMOTE_ADDR": "198.51.100.77"})
    page = client.get("/account")
    assert page.status_code == 200
    assert "Mein Konto" in page.text and "Aktive Sitzungen" in page.text
    assert "Mobile Safari · iOS" in page.text and "198.51.100.77" in page.text
    assert "(dieser Browser)" in page.text
    assert 'href="/account"' in page.text  # the navigation link

    row_id = re.search(r'/account/sessions/(\d+)/end', page.text).group(1)
    ended = client.post(f"/account/sessions/{row_id}/end", headers=HTMX)
    assert ended.status_code == 200
    assert ended.text.lstrip().startswith('<section id="account-sessions"')
    assert json.loads(ended.headers["HX-Trigger"])["toast"] == "Die Sitzung wurde beendet."
    assert "198.51.100.77" not in ended.text
    assert phone.get("/ums").status_code == 302
    # ended already, or someone else's: 404
    assert client.post(f"/account/sessions/{row_id}/end", headers=HTMX).status_code == 404


def test_another_users_session_cannot_be_ended(app, client, admin, db_session):
    other = app.test_client()
    login(other, "admin2@muster.example")
    foreign = db_session.scalar(select(UserSession).where(UserSession.user_id != admin.id,
                                                          UserSession.ended_at.is_(None)))
    login(client, admin.email, PASSWORD)
    assert client.post(f"/account/sessions/{foreign.id}/end").status_code == 404
    assert other.get("/ums").status_code == 200


def test_sign_out_everywhere_ends_every_session_this_one_too(app, client, admin):
    login(client, admin.email, PASSWORD)
    second = app.test_client()
    login(second, admin.email, PASSWORD)
    response = client.post("/account/sessions/end-all", headers=HTMX)
    assert response.headers["HX-Redirect"] == "/login"
    assert client.get("/ums").status_code == 302 and second.get("/ums").status_code == 302
    assert "Sie wurden auf allen Geräten abgemeldet." in client.get("/login").text


def test_signed_out_the_account_page_goes_to_the_login(client):
    assert client.get("/account").headers["Location"].startswith("/login")
    assert client.get("/account", headers=HTMX).status_code == 401


# --- name, language, password ------------------------------------------------------------------------


def test_name_and_language_are_saved_and_the_page_follows_the_language(client, admin):
    login(client, admin.email, PASSWORD)
    response = client.post("/account/profile", data={"display_name": "Karla Konto", "locale": "en"}, headers=HTMX)
    assert response.headers["HX-Redirect"] == "/account"
    page = client.get("/account").text
    assert "My account" in page and 'value="Karla Konto"' in page and "Your name and language are saved." in page


@pytest.mark.parametrize(("data", "error"), [
    ({"display_name": "", "locale": "de"}, "Bitte geben Sie Ihren Namen ein."),
    ({"display_name": "Karla", "locale": "xx"}, "Keine gültige Auswahl."),
    ({"display_name": "Kar\x00la", "locale": "de"}, "Dieses Feld enthält unsichtbare Steuerzeichen"),
])
def test_a_bad_name_or_language_is_refused_next_to_the_field(client, admin, db_session, data, error):
    login(client, admin.email, PASSWORD)
    response = client.post("/account/profile", data=data, headers=HTMX)
    assert response.status_code == 422
    assert response.text.lstrip().startswith('<section id="account-profile"')
    assert 'role="alert"' in response.text and error in response.text
    db_session.refresh(admin)
    assert admin.display_name != "Karla"


def test_changing_the_password_needs_the_current_one(client, admin, db_session):
    login(client, admin.email, PASSWORD)
    response = client.post("/account/password", headers=HTMX, data={
        "current_password": "wrong-password", "password": "new-password-22", "confirm": "new-password-22"})
    assert response.status_code == 422
    assert 'id="current_password-errors"' in response.text and "Das aktuelle Passwort ist nicht korrekt." in response.text
    db_session.refresh(admin)
    assert accounts.verify_password(admin.password_hash, PASSWORD)


def test_a_new_password_ends_every_other_session_and_copies_of_this_one(app, client, admin):
    login(client, admin.email, PASSWORD)
    copy = copy_of(app, client)
    elsewhere = app.test_client()
    login(elsewhere, admin.email, PASSWORD)
    response = client.post("/account/password", headers=HTMX, data={
        "current_password": PASSWORD, "password": "new-password-22", "confirm": "new-password-22"})
    assert response.status_code == 200
    assert "Jede andere Sitzung" in json.loads(response.headers["HX-Trigger"])["toast"]
    assert client.get("/ums").status_code == 200  # this browser goes on, with a new session id
    assert copy.get("/ums").status_code == 302 and elsewhere.get("/ums").status_code == 302
    assert app.test_client().post("/login", data={"email": admin.email, "password": "new-password-22"}).status_code == 302


# --- „Passwort vergessen?“ ------------------------------------------------------------------------


def _ask(client, email, ip="203.0.113.50"):
    return client.post("/forgot-password", data={"email": email}, environ_base={"REMOTE_ADDR": ip})


def _reset_link(db_session, email) -> str:
    mail = db_session.scalar(select(MailMessage).where(MailMessage.recipient == email)
                             .order_by(MailMessage.id.desc()))
    return re.search(r"http://localhost(/reset-password/\S+)", mail.body_text).group(1)


def test_the_sign_in_page_offers_forgot_password(client):
    page = client.get("/login").text
    assert 'href="/forgot-password"' in page and "Passwort vergessen?" in page
    assert client.get("/forgot-password").status_code == 200


def test_the_answer_is_the_same_whether_or_not_the_address_exists(client, admin, db_session):
    known, unknown = _ask(client, admin.email), _ask(client, "niemand@test.example")
    assert known.status_code == unknown.status_code == 200
    # the CSRF token (in hidden fields and htmx's headers) carries the second it was made
    strip = lambda text: re.sub(r'value="[^"]*"|"X-CSRFToken": "[^"]*"', "", text)  # noqa: E731
    assert strip(known.text) == strip(unknown.text)
    assert "Prüfen Sie Ihr Postfach" in known.text
    assert _reset_link(db_session, admin.email)
    assert db_session.scalar(select(MailMessage).where(MailMessage.recipient == "niemand@test.example")) is None


def test_an_empty_address_is_refused_next_to_the_field(client):
    response = client.post("/forgot-password", data={"email": ""})
    assert response.status_code == 422 and 'id="email-errors"' in response.text


def test_too_many_requests_from_one_client_wait(client):
    for n in range(password_reset.PER_CLIENT):
        assert _ask(client, f"someone{n}@test.example", ip="192.0.2.77").status_code == 200
    refused = _ask(client, "someone@test.example", ip="192.0.2.77")
    assert refused.status_code == 429 and "Zu viele Anfragen" in refused.text
    assert _ask(client, "someone@test.example", ip="192.0.2.78").status_code == 200


def test_the_reset_link_sets_a_new_password_signs_in_and_ends_the_old_sessions(app, client, admin, db_session):
    old_browser = app.test_client()
    login(old_browser, admin.email, PASSWORD)
    _ask(client, admin.email)
    link = _reset_link(db_session, admin.email)
    form = client.get(link)
    assert form.status_code == 200 and "Neues Passwort wählen" in form.text
    short = client.post(link, data={"password": "short", "confirm": "short"})
    assert short.status_code == 422 and 'id="password-errors"' in short.text
    done = client.post(link, data={"password": "reset-password-9", "confirm": "reset-password-9"})
    assert done.status_code == 302 and done.headers["Location"] == "/ums"
    assert client.get("/ums").status_code == 200  # signed in
    assert old_browser.get("/ums").status_code == 302  # the old session ended
    # used once: the link is gone
    again = app.test_client().get(link)
    assert again.status_code == 410 and 'href="/forgot-password"' in again.text


def test_an_expired_reset_link_is_refused(client, admin, db_session):
    from webapp.models import UserToken

    _ask(client, admin.email)
    link = _reset_link(db_session, admin.email)
    row = db_session.scalar(select(UserToken).where(UserToken.user_id == admin.id))
    row.expires_at = utcnow() - timedelta(seconds=1)
    db_session.flush()
    assert client.get(link).status_code == 410
    assert client.post(link, data={"password": "reset-password-9", "confirm": "reset-password-9"}).status_code == 410


# --- two-factor sign-in ---------------------------------------------------------------------------


def _turn_on(client, email=None, password=PASSWORD):
    page = client.get("/account/two-factor")
    assert page.status_code == 200 and 'src="data:image/svg+xml' in page.text
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page.text).group(1).replace(" ", "")
    done = client.post("/account/two-factor", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200, done.text
    codes = re.findall(r"<li><code>([A-Z0-9-]{19})</code></li>", done.text)
    assert len(codes) == 10
    return secret, codes


def _password_step(client, email):
    response = client.post("/login", data={"email": email, "password": PASSWORD},
                           environ_base={"REMOTE_ADDR": "203.0.113.60"})
    assert response.status_code == 302 and response.headers["Location"] == "/login/code"
    return response


def _code(client, code):
    return client.post("/login/code", data={"code": code}, environ_base={"REMOTE_ADDR": "203.0.113.60"})


def test_setup_confirm_with_a_wrong_code_is_refused_next_to_the_field(client, admin, db_session):
    login(client, admin.email, PASSWORD)
    client.get("/account/two-factor")
    response = client.post("/account/two-factor", data={"code": "abc"}, headers=HTMX)
    assert response.status_code == 422
    assert response.text.lstrip().startswith('<section id="two-factor-setup"')
    db_session.refresh(admin)
    assert 'id="code-errors"' in response.text and admin.totp_enabled_at is None


def test_with_two_factor_on_the_sign_in_asks_for_a_code(app, client, admin, db_session):
    login(client, admin.email, PASSWORD)
    secret, codes = _turn_on(client)
    assert "Zwei-Faktor-Anmeldung ist eingeschaltet" in client.get("/account").text
    client.post("/logout")

    _password_step(client, admin.email)
    assert client.get("/ums").status_code == 302  # not signed in before the code
    wrong = _code(client, "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    assert wrong.status_code == 422 and "Dieser Code ist nicht korrekt" in wrong.text
    # the code of the set-up is used up (a code counts once): the next step's code is accepted too
    right = _code(client, pyotp.TOTP(secret).at(time.time() + 30))
    assert right.status_code == 302 and right.headers["Location"] == "/ums"
    assert client.get("/ums").status_code == 200

    # with a recovery code, once
    other = app.test_client()
    _password_step(other, admin.email)
    used = _code(other, codes[0])
    assert used.status_code == 302
    assert "9 davon sind noch übrig" in other.get("/ums").text
    third = app.test_client()
    _password_step(third, admin.email)
    assert _code(third, codes[0]).status_code == 422


def test_wrong_codes_lock_the_sign_in_like_wrong_passwords(client, admin):
    login(client, admin.email, PASSWORD)
    _turn_on(client)
    client.post("/logout")
    _password_step(client, admin.email)
    for _ in range(accounts.MAX_FAILED_LOGINS - 1):
        assert _code(client, "99999x").status_code == 422
    locked = _code(client, "99999x")
    assert locked.status_code == 429 and "Zu viele fehlgeschlagene Anmeldeversuche" in locked.text
    # the password from that client waits too
    response = client.post("/login", data={"email": admin.email, "password": PASSWORD},
                           environ_base={"REMOTE_ADDR": "203.0.113.60"})
    assert response.status_code == 429


def test_the_code_step_without_a_fresh_password_step_goes_back_to_the_login(client, admin):
    assert client.get("/login/code").headers["Location"] == "/login"
    login(client, admin.email, PASSWORD)
    _turn_on(client)
    client.post("/logout")
    _password_step(client, admin.email)
    with client.session_transaction() as cookie:
        cookie["pending_second_factor"] = {**cookie["pending_second_factor"], "at": int(time.time()) - 3600}
    assert client.get("/login/code").headers["Location"] == "/login"


def test_turning_off_needs_the_password(client, admin, db_session):
    login(client, admin.email, PASSWORD)
    _turn_on(client)
    wrong = client.post("/account/two-factor/disable", data={"disable-password": "nope"}, headers=HTMX)
    assert wrong.status_code == 422 and 'id="disable-password-errors"' in wrong.text
    db_session.refresh(admin)
    assert admin.totp_enabled_at is not None
    off = client.post("/account/two-factor/disable", data={"disable-password": PASSWORD}, headers=HTMX)
    db_session.refresh(admin)
    assert off.status_code == 200 and admin.totp_enabled_at is None
    assert json.loads(off.headers["HX-Trigger"])["toast"] == "Die Zwei-Faktor-Anmeldung ist ausgeschaltet."


def test_new_recovery_codes_need_the_password(client, admin):
    login(client, admin.email, PASSWORD)
    _, old = _turn_on(client)
    assert client.post("/account/two-factor/recovery-codes", data={"codes-password": "nope"}).status_code == 422
    new = client.post("/account/two-factor/recovery-codes", data={"codes-password": PASSWORD})
    fresh = re.findall(r"<li><code>([A-Z0-9-]{19})</code></li>", new.text)
    assert len(fresh) == 10 and not set(fresh) & set(old)


class TestRequiredForAdmins:
    @pytest.fixture
    def app_config(self):
        return {"TWO_FACTOR_REQUIRED": "admins"}

    def test_an_admin_without_it_is_sent_to_set_it_up(self, client, admin, db_session):
        login(client, admin.email, PASSWORD)
        response = client.get("/ums")
        assert response.status_code == 303 and response.headers["Location"] == "/account/two-factor"
        assert client.get("/ums", headers=HTMX).headers["HX-Redirect"] == "/account/two-factor"
        page = client.get("/account/two-factor")
        assert page.status_code == 200 and "Für Ihr Login ist die Zwei-Faktor-Anmeldung vorgeschrieben" in page.text
        _turn_on(client)
        assert client.get("/ums").status_code == 200
        # and it cannot be turned off
        refused = client.post("/account/two-factor/disable", data={"disable-password": PASSWORD})
        db_session.refresh(admin)
        assert refused.status_code == 422 and admin.totp_enabled_at is not None
        assert "lässt sich nicht ausschalten" in refused.text

    def test_a_ums_user_is_not_asked(self, client):
        login(client, "anna.schmidt@muster.example")
        assert client.get("/me").status_code == 200

    def test_sign_out_still_works(self, client, admin):
        login(client, admin.email, PASSWORD)
        assert client.post("/logout").headers["Location"] == "/login"


def test_an_unknown_group_in_the_configuration_stops_the_start(database_url):
    from tests.conftest import test_config
    from webapp import create_app

    with pytest.raises(ValueError, match="TWO_FACTOR_REQUIRED"):
        create_app(test_config(database_url, TWO_FACTOR_REQUIRED="admin"))


# --- operator commands and a deactivated login ------------------------------------------------------


def test_operator_commands_end_sessions_and_reset_two_factor(app, client, admin, db_session, runner):
    login(client, admin.email, PASSWORD)
    _turn_on(client)
    db_session.refresh(admin)  # the command shares the test's session: load what the requests stored
    result = runner.invoke(args=["account", "reset-two-factor", admin.email])
    assert result.exit_code == 0 and "is off" in result.output
    db_session.refresh(admin)
    assert admin.totp_enabled_at is None and client.get("/ums").status_code == 302
    assert runner.invoke(args=["account", "end-sessions", "nobody@test.example"]).exit_code != 0
    login(client, admin.email, PASSWORD)  # the password alone signs in now
    assert "1 session(s) ended" in runner.invoke(args=["account", "end-sessions", admin.email]).output
    assert client.get("/ums").status_code == 302


def test_a_deactivated_login_is_signed_out_at_once(client, admin, db_session):
    login(client, admin.email, PASSWORD)
    admin.active = False
    db_session.flush()
    assert client.get("/ums").status_code == 302


@pytest.mark.postgres
def test_reset_requests_at_the_same_moment_send_no_more_than_the_limit(pg_app):
    from tests.parallel import run_at_once
    from webapp.extensions import db

    email = "admin2@muster.example"

    def ask(n):
        return pg_app.test_client().post("/forgot-password", data={"email": email},
                                         environ_base={"REMOTE_ADDR": f"198.51.100.{n + 1}"}).status_code

    assert run_at_once(8, ask) == [200] * 8
    with pg_app.app_context():
        mails = db.session.scalars(select(MailMessage).where(MailMessage.recipient == email)).all()
        assert len(mails) == password_reset.PER_ADDRESS


class TestWithCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_the_account_forms_carry_their_token_without_javascript(self, client, admin):
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
        client.post("/login", data={"email": admin.email, "password": PASSWORD, "csrf_token": token})
        page = client.get("/account").text
        assert page.count('id="csrf_token"') == 0  # no repeated ids from the forms' hidden fields
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        saved = client.post("/account/profile", data={"display_name": "Ohne Skript", "locale": "de",
                                                      "csrf_token": token})
        assert saved.status_code == 303
        _turn_on_with(client, token)
        page = client.get("/account").text
        disable_token = re.search(r'name="disable-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        off = client.post("/account/two-factor/disable", data={"disable-password": PASSWORD,
                                                              "disable-csrf_token": disable_token})
        assert off.status_code == 200 and "Zwei-Faktor-Anmeldung einrichten" in off.text
        forged = client.post("/account/sessions/end-all", data={"csrf_token": "forged"})
        assert forged.status_code == 400


def _turn_on_with(client, token):
    page = client.get("/account/two-factor").text
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    done = client.post("/account/two-factor", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token})
    assert done.status_code == 200 and "Ihre Wiederherstellungscodes" in done.text


@pytest.mark.parametrize(("path", "data"), [
    ("/forgot-password", {"email": "a\x00b@test.example"}),
    ("/account/profile", {"display_name": "\x00", "locale": "\x00"}),
    ("/account/password", {"current_password": "\x00", "password": "\x00" * 12, "confirm": "\x00" * 12}),
    ("/account/two-factor", {"code": "\x00" * 6}),
    ("/account/two-factor/disable", {"disable-password": "\x00"}),
    ("/account/two-factor/recovery-codes", {"codes-password": "\x00"}),
    ("/reset-password/\x00", {"password": "x" * 12, "confirm": "x" * 12}),
])
def test_control_characters_are_refused_never_a_500(client, admin, path, data):
    login(client, admin.email, PASSWORD)
    response = client.post(path, data=data)
    assert 400 <= response.status_code < 500, (path, response.status_code)


def test_control_characters_in_the_code_step_are_refused(client, admin):
    login(client, admin.email, PASSWORD)
    _turn_on(client)
    client.post("/logout")
    _password_step(client, admin.email)
    assert _code(client, "\x00\x01-xyz").status_code == 422


def test_the_code_field_is_marked_invalid_only_after_a_wrong_code(client, admin):
    login(client, admin.email, PASSWORD)
    _turn_on(client)
    client.post("/logout")
    _password_step(client, admin.email)
    assert 'aria-invalid' not in client.get("/login/code").text
    wrong = _code(client, "12345x").text
    assert 'aria-describedby="code-error" aria-invalid="true"' in wrong and 'id="code-error"' in wrong


@pytest.mark.postgres
def test_one_code_sent_twice_at_the_same_moment_signs_in_once(pg_app):
    from tests.parallel import run_at_once
    from webapp.extensions import db
    from webapp.services import totp

    email = "admin2@muster.example"
    with pg_app.app_context():
        user = accounts.find_user_by_email(db.session, email)
        secret = totp.begin_setup(db.session, user).secret
        totp.confirm(db.session, user, pyotp.TOTP(secret).now())
        db.session.commit()
    code = pyotp.TOTP(secret).at(time.time() + 30)
    clients = [pg_app.test_client() for _ in range(4)]
    for c in clients:
        assert c.post("/login", data={"email": email, "password": "demo-admin-2026"}).status_code == 302

    statuses = run_at_once(4, lambda n: clients[n].post("/login/code", data={"code": code}).status_code)
    assert sorted(statuses) == [302, 422, 422, 422], statuses


@pytest.mark.postgres
def test_one_reset_link_sent_twice_at_the_same_moment_works_once(pg_app):
    from tests.parallel import run_at_once
    from webapp.extensions import db

    email = "cf-admin@beispiel.example"
    with pg_app.test_request_context(method="POST"):  # the request that asks for the link writes
        password_reset.request_link(db.session, email, "203.0.113.201")
        db.session.commit()
        mail = db.session.scalar(select(MailMessage).where(MailMessage.recipient == email)
                                 .order_by(MailMessage.id.desc()))
    link = re.search(r"http://localhost(/reset-password/\S+)", mail.body_text).group(1)
    clients = [pg_app.test_client() for _ in range(4)]

    def submit(n):
        return clients[n].post(link, data={"password": f"parallel-pass-{n}", "confirm": f"parallel-pass-{n}"}).status_code

    statuses = run_at_once(4, submit)
    assert statuses.count(302) == 1 and all(s in (302, 410, 422) for s in statuses), statuses
