from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import HTMX, login
from webapp.models import LoginThrottle
from webapp.services import accounts

DEMO_HOMES = [
    ("admin@muster.example", "/ums"),
    ("admin2@muster.example", "/ums"),
    ("anna.schmidt@muster.example", "/me"),
    ("cf-admin@beispiel.example", "/ums"),
    ("reseller@partner.example", "/ums"),
    ("mandant@nord.example", "/ums"),
    ("betrieb@carrier.example", "/backoffice"),
]


@pytest.mark.parametrize(("email", "home"), DEMO_HOMES)
def test_every_demo_login_lands_on_its_dashboard(client, email, home):
    response = login(client, email)
    assert response is client
    landing = client.get("/")
    assert landing.status_code == 302
    assert landing.headers["Location"].endswith(home)
    assert client.get(home).status_code == 200


@pytest.mark.parametrize("email", ["admin@muster.example", "nobody@muster.example"])
def test_wrong_password_and_unknown_login_get_the_same_neutral_message(client, email):
    response = client.post("/login", data={"email": email, "password": "wrong-password"})
    assert response.status_code == 422
    assert "E-Mail-Adresse oder Passwort ist nicht korrekt." in response.text
    assert f'value="{email}"' in response.text


def test_login_is_case_insensitive_on_the_email(client):
    response = client.post("/login", data={"email": "Admin@Muster.Example", "password": "demo-admin-2026"})
    assert response.status_code == 302


def test_logout_signs_out(client):
    login(client, "admin@muster.example")
    assert client.post("/logout").status_code == 302
    assert client.get("/ums").status_code == 302


def test_signed_out_htmx_request_gets_hx_redirect_to_login(client):
    response = client.get("/ums", headers=HTMX)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


def test_session_cookie_is_httponly_and_lax(client):
    response = client.post("/login", data={"email": "admin@muster.example", "password": "demo-admin-2026"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_login_does_not_redirect_off_site(client):
    response = client.post("/login", data={"email": "admin@muster.example", "password": "demo-admin-2026",
                                           "next": "https://evil.example/"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/")
    assert "evil.example" not in response.headers["Location"]


def test_language_switch_persists_for_the_user(client):
    login(client, "admin@muster.example")
    assert "Abmelden" in client.get("/ums").text
    client.post("/language", data={"lang": "en", "next": "/ums"})
    assert "Sign out" in client.get("/ums").text
    client.post("/logout")
    login(client, "admin@muster.example")
    assert "Sign out" in client.get("/ums").text


class TestCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_state_changing_request_without_token_is_refused_with_400(self, client):
        response = client.post("/login", data={"email": "admin@muster.example", "password": "demo-admin-2026"})
        assert response.status_code == 400

    def test_htmx_request_with_token_header_passes(self, client):
        page = client.get("/login").text
        import re

        token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
        response = client.post("/login", data={"email": "admin@muster.example", "password": "demo-admin-2026"},
                               headers={"X-CSRFToken": token})
        assert response.status_code == 302

    def test_signed_out_htmx_post_without_a_token_goes_to_the_login(self, client):
        """An ended session takes its CSRF token along: htmx must not fail silently on the 400."""
        response = client.post("/logout", headers={**HTMX, "HX-Current-URL": "http://localhost/ums?q=Anna"})
        assert response.status_code == 401
        assert response.headers["HX-Redirect"] == "/login?next=/ums?q%3DAnna"

    def test_signed_in_htmx_post_with_a_wrong_token_says_so_in_a_toast(self, client):
        import json
        import re

        token = re.search(r'"X-CSRFToken": "([^"]+)"', client.get("/login").text).group(1)
        client.post("/login", data={"email": "admin@muster.example", "password": "demo-admin-2026"},
                    headers={"X-CSRFToken": token})
        response = client.post("/logout", headers={**HTMX, "X-CSRFToken": "forged"})
        assert response.status_code == 400
        assert "neu" in json.loads(response.headers["HX-Trigger"])["toast"]


# --- hardening: guessing, fixation, redirects, the form's accessibility ---------------------------

LOCKED = "Zu viele fehlgeschlagene Anmeldeversuche. Bitte warten Sie 15 Minuten und versuchen Sie es erneut."
NEUTRAL = "E-Mail-Adresse oder Passwort ist nicht korrekt."


def _try(client, email, password, ip="203.0.113.7"):
    return client.post("/login", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


@pytest.mark.parametrize("email", ["admin@muster.example", "nobody@muster.example"])
def test_many_wrong_passwords_lock_that_login_from_that_address(client, email):
    for _ in range(accounts.MAX_FAILED_LOGINS - 1):
        response = _try(client, email, "wrong-password")
        assert response.status_code == 422 and NEUTRAL in response.text
    locked = _try(client, email, "wrong-password")
    assert locked.status_code == 429
    assert LOCKED in locked.text and NEUTRAL not in locked.text
    # even the right password waits now, from that address; another address still signs in
    assert _try(client, email, "demo-admin-2026").status_code == 429
    if email == "admin@muster.example":
        assert _try(client, email, "demo-admin-2026", ip="198.51.100.9").status_code == 302


def test_a_right_password_clears_the_count(client, db_session):
    for _ in range(accounts.MAX_FAILED_LOGINS - 1):
        _try(client, "admin@muster.example", "wrong-password")
    assert _try(client, "admin@muster.example", "demo-admin-2026").status_code == 302
    assert db_session.scalar(select(LoginThrottle)) is None


def test_the_lock_ends_and_old_failures_expire(db_session):
    start = accounts.utcnow()
    for _ in range(accounts.MAX_FAILED_LOGINS):
        attempt = accounts.sign_in(db_session, "admin@muster.example", "wrong", "203.0.113.7", now=start)
    assert attempt.locked_until == start + accounts.LOGIN_LOCKOUT
    later = start + accounts.LOGIN_LOCKOUT + timedelta(seconds=1)
    assert accounts.sign_in(db_session, "admin@muster.example", "demo-admin-2026", "203.0.113.7",
                            now=later).user is not None
    # failures spread wider than the window never add up to a lock
    for minute in range(0, 5 * 16, 16):
        attempt = accounts.sign_in(db_session, "admin2@muster.example", "wrong", "203.0.113.7",
                                   now=start + timedelta(minutes=minute))
        assert attempt.locked_until is None


class TestBehindAProxy:
    @pytest.fixture
    def app_config(self):
        return {"PROXY_COUNT": 1}

    def test_the_client_address_comes_from_the_trusted_proxy(self, client):
        for _ in range(accounts.MAX_FAILED_LOGINS):
            client.post("/login", data={"email": "admin@muster.example", "password": "wrong"},
                        headers={"X-Forwarded-For": "203.0.113.7"})
        other_client = client.post("/login", data={"email": "admin@muster.example", "password": "demo-admin-2026"},
                                   headers={"X-Forwarded-For": "198.51.100.9"})
        assert other_client.status_code == 302


def test_sign_in_starts_a_fresh_session(client):
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    login(client, "admin@muster.example")
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"]


def test_sign_out_is_only_a_post(client):
    login(client, "admin@muster.example")
    assert client.get("/logout").status_code == 405
    assert client.get("/ums").status_code == 200


@pytest.mark.parametrize("target", ["/\\evil.example/", "/\\/evil.example", "/\t/evil.example",
                                    "//evil.example", "javascript:alert(1)", "https:/evil.example"])
def test_next_never_leaves_the_site(client, target):
    response = client.post("/login", data={"email": "admin@muster.example", "password": "demo-admin-2026",
                                           "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/ums"


def test_the_neutral_message_is_linked_to_both_fields(client):
    text = client.post("/login", data={"email": "admin@muster.example", "password": "wrong"}).text
    assert 'id="login-error"' in text and 'role="alert"' in text
    assert text.count('aria-describedby="login-error"') == 2
    assert 'aria-describedby="login-error" aria-invalid="true" autocomplete="current-password" autofocus' in text


def test_a_sign_in_ends_after_the_session_hours(client, monkeypatch):
    import itsdangerous.timed

    login(client, "admin@muster.example")
    assert client.get("/ums").status_code == 200
    real = itsdangerous.timed.TimestampSigner.get_timestamp
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp",
                        lambda self: real(self) + 12 * 3600 + 60)
    assert client.get("/ums").status_code == 302
    assert client.get("/ums", headers=HTMX).headers["HX-Redirect"].startswith("/login")


@pytest.mark.postgres
def test_wrong_passwords_at_the_same_moment_share_one_counter(pg_app):
    from tests.parallel import run_at_once
    from webapp.extensions import db

    email = "parallel-guess@muster.example"

    def guess(_n):
        return pg_app.test_client().post("/login", data={"email": email, "password": "wrong"},
                                         environ_base={"REMOTE_ADDR": "203.0.113.99"}).status_code

    statuses = run_at_once(8, guess)
    assert set(statuses) <= {422, 429}, statuses
    with pg_app.app_context():
        rows = db.session.scalars(select(LoginThrottle).where(
            LoginThrottle.key == accounts._throttle_key(email, "203.0.113.99"))).all()
        assert len(rows) == 1 and rows[0].locked_until is not None
