"""The page shell every area shares: full page or partial (style.md rules 6 and 12), refusals with
their reason, navigation by role, the language, and one commit per request."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.conftest import HTMX, login
from webapp.models import AuditEntry, UmsProfile
from webapp.services import audit
from webapp.services.errors import AccessDenied, ValidationFailed

BOOSTED = {**HTMX, "HX-Boosted": "true"}
HISTORY_RESTORE = {**HTMX, "HX-History-Restore-Request": "true"}


def profile_id(session, email: str) -> int:
    return session.scalar(select(UmsProfile.id).where(UmsProfile.email == email))


def is_full_page(response) -> bool:
    return response.text.lstrip().lower().startswith("<!doctype html>")


# --- one helper decides full page or partial -----------------------------------------------------


def test_plain_request_gets_the_full_page_with_the_partial_inside(client):
    login(client, "anna.schmidt@muster.example")
    response = client.get("/me")
    assert response.status_code == 200
    assert is_full_page(response)
    assert 'id="services"' in response.text
    assert "HX-Request" in response.headers["Vary"]


def test_htmx_request_gets_only_the_partial(client):
    login(client, "anna.schmidt@muster.example")
    response = client.get("/me", headers=HTMX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="services"')
    assert "<html" not in response.text and "<nav" not in response.text
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("headers", [BOOSTED, HISTORY_RESTORE], ids=["boosted", "history-restore"])
def test_boosted_and_history_restore_requests_get_the_full_page(client, headers):
    login(client, "anna.schmidt@muster.example")
    response = client.get("/me", headers=headers)
    assert response.status_code == 200
    assert is_full_page(response)
    assert "HX-Request" in response.headers["Vary"]


def test_htmx_config_swaps_refusals_and_turns_history_restore_off(client):
    page = client.get("/login").text
    config = re.search(r"<meta name=\"htmx-config\" content='([^']+)'", page).group(1)
    assert '"historyRestoreAsHxRequest": false' in config
    assert '"code": "422", "swap": true' in config
    assert '"code": "40[349]", "swap": true' in config


# --- refusals: 403 with the reason, 404 -----------------------------------------------------------


@pytest.mark.parametrize("service", ["voicemail", "fax", "conference"])
def test_ums_user_opening_another_profile_is_not_found(client, db_session, service):
    """Another user's profile is outside a UMS user's scope: 404, exactly as for a free id."""
    login(client, "anna.schmidt@muster.example")
    url = f"/profiles/{profile_id(db_session, 'max.mueller@muster.example')}/{service}"
    free = f"/profiles/{2**31 - 1}/{service}"

    page = client.get(url)
    assert page.status_code == 404 == client.get(free).status_code
    assert is_full_page(page)
    assert "Nicht gefunden" in page.text and "Max" not in page.text

    partial = client.get(url, headers=HTMX)
    assert partial.status_code == 404
    assert partial.text == client.get(free, headers=HTMX).text
    assert "HX-Request" in partial.headers["Vary"]


def test_ums_user_opens_their_own_services(client, db_session):
    login(client, "anna.schmidt@muster.example")
    own = profile_id(db_session, "anna.schmidt@muster.example")
    for service in ("voicemail", "fax", "conference"):
        assert client.get(f"/profiles/{own}/{service}").status_code == 200


def test_admin_of_another_customer_learns_nothing_about_it(client, db_session):
    login(client, "cf-admin@beispiel.example")
    response = client.get(f"/profiles/{profile_id(db_session, 'anna.schmidt@muster.example')}/voicemail",
                          headers=HTMX)
    assert response.status_code == 404
    assert "K-100001" not in response.text and "IPfonie" not in response.text


def test_a_tenant_without_avv_on_its_own_customer_is_told_why(client, db_session):
    """The tenant knows the customer it looks after: 403 with the reason (the missing AVV)."""
    login(client, "mandant@nord.example")
    response = client.get(f"/profiles/{profile_id(db_session, 'anna.schmidt@muster.example')}/voicemail",
                          headers=HTMX)
    assert response.status_code == 403
    assert "Auftragsverarbeitungsvertrag" in response.text


def test_tenant_without_avv_is_refused_with_the_data_protection_reason(client, db_session):
    login(client, "mandant@nord.example")
    response = client.get(f"/profiles/{profile_id(db_session, 'anna.schmidt@muster.example')}/fax")
    assert response.status_code == 403
    assert "Datenschutz" in response.text and "Auftragsverarbeitungsvertrag (AVV)" in response.text


def test_unknown_profile_is_404_page_and_partial(client):
    login(client, "admin@muster.example")
    page = client.get("/profiles/999999/voicemail")
    assert page.status_code == 404
    assert is_full_page(page)
    assert "Dieser Eintrag existiert nicht oder wurde gelöscht." in page.text
    partial = client.get("/profiles/999999/voicemail", headers=HTMX)
    assert partial.status_code == 404
    assert "<html" not in partial.text
    assert "Dieser Eintrag existiert nicht oder wurde gelöscht." in partial.text


def test_unknown_url_is_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Diese Seite gibt es nicht oder nicht mehr." in response.text


def test_pure_ums_user_is_refused_the_ums_administration_with_the_reason(client):
    login(client, "anna.schmidt@muster.example")
    response = client.get("/ums")
    assert response.status_code == 403
    assert "Als UMS-Benutzer können Sie nur Ihr eigenes UMS-Profil nutzen." in response.text


def test_admin_without_profile_is_refused_the_user_dashboard_with_the_reason(client):
    login(client, "admin@muster.example")
    response = client.get("/me", headers=HTMX)
    assert response.status_code == 403
    assert "Ihr Login hat kein UMS-Profil." in response.text


def test_only_the_back_office_opens_the_back_office(client):
    login(client, "admin@muster.example")
    response = client.get("/backoffice")
    assert response.status_code == 403
    assert "Nur das Back Office des Netzbetreibers stellt bestellte SIP-Trunks bereit." in response.text


def test_signed_out_page_request_redirects_to_the_login(client):
    response = client.get("/me")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


# --- navigation by role ---------------------------------------------------------------------------

NAV = [  # „IPfonie SIP“ → „Unified Messaging“, „Globale Verwaltung“ → „Aktive Verträge“, „Meine Bestellungen“; „Bestellsystem“
    ("admin@muster.example", ["/ums", "/contracts", "/orders", "/shop"]),
    ("admin2@muster.example", ["/ums", "/contracts", "/orders", "/shop"]),  # fills the cart, cannot place it
    ("anna.schmidt@muster.example", ["/me"]),
    ("cf-admin@beispiel.example", ["/ums", "/contracts", "/orders", "/shop"]),
    ("reseller@partner.example", ["/ums", "/contracts", "/orders", "/shop"]),
    ("mandant@nord.example", ["/ums", "/contracts"]),  # tenants never order
    ("betrieb@carrier.example", ["/backoffice", "/backoffice/outbox"]),
]


def nav_links(html: str) -> list[str]:
    items = re.search(r'<ul class="nav-items">(.*?)</nav>', html, re.S).group(1)
    return [href for href in re.findall(r'<a href="([^"]+)"', items) if href != "/dev/mailbox"]


@pytest.mark.parametrize(("email", "links"), NAV)
def test_navigation_shows_the_entries_of_the_users_roles(client, email, links):
    login(client, email)
    landing = client.get("/", follow_redirects=True)
    assert landing.status_code == 200
    assert nav_links(landing.text) == [*links, "/account"]  # „Mein Konto“ for every login


def test_navigation_names_the_product_menu_after_the_customers_line(client):
    login(client, "admin@muster.example")
    assert "<summary >IPfonie SIP</summary>" in client.get("/contracts").text.replace('aria-current="page"', "")
    client.post("/logout")
    login(client, "cf-admin@beispiel.example")
    page = client.get("/ums").text
    assert ">Centraflex</summary>" in page and ">Unified Messaging</a>" in page


def test_signed_out_navigation_is_empty(client):
    assert nav_links(client.get("/login").text) == []


# --- language -------------------------------------------------------------------------------------


def test_german_by_default_and_english_after_the_switch(client):
    page = client.get("/login")
    assert '<html lang="de">' in page.text
    assert "<h1>Anmelden</h1>" in page.text

    switched = client.post("/language", data={"lang": "en", "next": "/login"})
    assert switched.status_code == 303
    assert switched.headers["Location"] == "/login"
    page = client.get("/login")
    assert '<html lang="en">' in page.text
    assert "<h1>Sign in</h1>" in page.text

    client.post("/language", data={"lang": "de", "next": "/login"})
    assert "<h1>Anmelden</h1>" in client.get("/login").text


def test_refusal_reasons_follow_the_language(client, db_session):
    login(client, "mandant@nord.example")
    client.post("/language", data={"lang": "en"})
    response = client.get(f"/profiles/{profile_id(db_session, 'anna.schmidt@muster.example')}/voicemail")
    assert response.status_code == 403
    assert "data processing agreement" in response.text


def test_unknown_language_falls_back_to_german(client):
    client.post("/language", data={"lang": "fr"})
    assert '<html lang="de">' in client.get("/login").text


# --- one commit per request: a refusal stores nothing ---------------------------------------------


def _audit_count(session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry))


@pytest.mark.parametrize(
    ("error", "status"),
    [(AccessDenied("nein"), 403), (ValidationFailed("falsch", field="x"), 422)],
    ids=["403", "422"],
)
def test_a_request_that_is_refused_stores_nothing(app, client, db_session, error, status):
    from webapp.db import writes
    from webapp.web import session

    def write_then_fail():
        audit.record(session(), None, "probe", subject="refused request")
        session().flush()
        raise error

    def write():
        audit.record(session(), None, "probe", subject="accepted request")
        return "ok"

    app.add_url_rule("/_probe/fail", "probe_fail", writes(write_then_fail))
    app.add_url_rule("/_probe/ok", "probe_ok", writes(write))
    before = _audit_count(db_session)

    assert client.get("/_probe/fail").status_code == status
    assert _audit_count(db_session) == before

    assert client.get("/_probe/ok").status_code == 200
    assert _audit_count(db_session) == before + 1


# --- numbers --------------------------------------------------------------------------------------


def test_phone_filter_shows_german_national_format_with_the_extension_set_off(db_session):
    from webapp.models import PhoneNumber
    from webapp.web import format_phone

    number = db_session.scalar(select(PhoneNumber).where(PhoneNumber.e164 == "+4930123456712"))
    assert format_phone(number) == "030 1234567-12"
    assert format_phone("+49301234567") == "030 1234567"
    assert format_phone("+431234567") == "+43 1 234567"
    assert format_phone(None) == ""


def test_user_dashboard_shows_each_service_with_its_extension(client):
    login(client, "anna.schmidt@muster.example")
    text = client.get("/me").text
    for extension in ("10", "11", "12"):
        assert f"030 1234567-{extension}" in text


# --- the htmx helper's contract -------------------------------------------------------------------


@pytest.fixture
def probes(app):
    from webapp import htmx

    def invalid():
        return htmx.render("errors/refused.html", "partials/errors/_refused.html", status=422,
                           trigger={"toast": "Bitte prüfen"}, message="Name fehlt")

    app.add_url_rule("/_probe/invalid", "probe_invalid", invalid, methods=["POST"])
    app.add_url_rule("/_probe/created", "probe_created", lambda: htmx.redirect("/me"), methods=["POST"])
    return app


def test_render_answers_422_with_the_partial_and_an_hx_trigger_for_htmx(client, probes):
    response = client.post("/_probe/invalid", headers=HTMX)
    assert response.status_code == 422
    assert "Name fehlt" in response.text and "<html" not in response.text
    assert response.headers["HX-Trigger"] == '{"toast": "Bitte pr\\u00fcfen"}'
    assert "HX-Request" in response.headers["Vary"]
    page = client.post("/_probe/invalid")
    assert page.status_code == 422 and is_full_page(page)


def test_redirect_after_a_create_is_a_full_page_load_hx_redirect_for_htmx_and_303_otherwise(client, probes):
    htmx_response = client.post("/_probe/created", headers=HTMX)
    assert htmx_response.status_code == 204
    assert htmx_response.headers["HX-Redirect"] == "/me"
    plain = client.post("/_probe/created")
    assert plain.status_code == 303
    assert plain.headers["Location"] == "/me"


# --- security headers and bad input ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["/login", "/no-such-page", "/static/app.css"])
def test_every_answer_carries_the_security_headers(client, path):
    headers = client.get(path).headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "SAMEORIGIN"
    policy = headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "frame-ancestors 'self'", "object-src 'none'", "base-uri 'self'",
                      "form-action 'self'"):
        assert directive in policy
    assert "script-src 'self';" in policy  # no inline script, no eval (htmx needs neither: no hx-on)


def test_htmx_does_not_inject_its_indicator_styles(client):
    """app.css styles .htmx-indicator, so htmx needs no inline <style> (CSP style-src)."""
    assert '"includeIndicatorStyles": false' in client.get("/login").text


BIG = "99999999999999999999"


@pytest.mark.parametrize("url", [f"/profiles/{BIG}/fax", f"/profiles/{BIG}/conference",
                                 f"/profiles/{BIG}/voicemail", f"/dev/mailbox/{BIG}", "/profiles/-1/fax"])
def test_an_id_too_large_for_the_database_is_404(client, url):
    login(client, "anna.schmidt@muster.example")
    assert client.get(url).status_code == 404
    assert client.get(url, headers=HTMX).status_code == 404


@pytest.mark.parametrize(("method", "url", "kwargs"), [
    ("get", "/login?next=%ff%fe&lang=xx", {}),
    ("get", "/me?x=%00", {"signed_in": True}),
    ("get", "/contracts?page=%ff", {"signed_in": True}),
    ("get", "/backoffice?x=%ff", {"signed_in": True}),
    ("post", "/login", {"data": b"email=%ff%fe\xff&password=\xff", "content_type": "application/x-www-form-urlencoded"}),
    ("post", "/login", {"data": {"email": "a" * 500_000, "password": "x" * 1_000_000}}),
    ("post", "/login", {"data": {"email": "admin@muster.example\x00", "password": "demo-admin-2026\x00"}}),
    ("post", "/language", {"data": {"lang": "xx", "next": "/\x00"}}),
    ("post", "/language", {"data": {"lang": "de" * 1000}}),
    ("post", "/set-password/x%00y", {"data": {"password": "abc"}}),
    ("get", "/set-password/" + "x" * 5000, {}),
], ids=lambda v: v if isinstance(v, str) and len(v) < 40 else None)
def test_bad_input_is_never_a_500(client, method, url, kwargs):
    if kwargs.pop("signed_in", False):
        login(client, "anna.schmidt@muster.example")
    response = getattr(client, method)(url, **kwargs)
    assert response.status_code < 500, response.text[:500]


class TestServerError:
    @pytest.fixture
    def app_config(self):
        return {"PROPAGATE_EXCEPTIONS": False}

    def test_the_error_page_appears_even_when_the_navigation_cannot_be_built(self, app, client, monkeypatch):
        from webapp.services import authz

        def broken(*_args, **_kwargs):
            raise RuntimeError("database gone")

        app.add_url_rule("/_probe/boom", "probe_boom", lambda: broken())
        login(client, "anna.schmidt@muster.example")
        monkeypatch.setattr(authz, "own_profile", broken)
        response = client.get("/_probe/boom")
        assert response.status_code == 500
        assert "Bei uns ist etwas schiefgegangen" in response.text
        assert is_full_page(response)


def test_an_unknown_page_is_titled_not_found(client):
    response = client.get("/no-such-page")
    assert "<title>Nicht gefunden · UMS-Portal</title>" in response.text
    assert "HX-Request" in response.headers["Vary"]
    partial = client.get("/no-such-page", headers=HTMX)
    assert partial.status_code == 404 and "<h2>Nicht gefunden</h2>" in partial.text


@pytest.mark.parametrize(("url", "heading"), [("/no-such-page", "Nicht gefunden"), ("/ums", "Zugriff verweigert")])
def test_an_error_page_has_its_h1_and_the_partial_an_h2(client, url, heading):
    login(client, "anna.schmidt@muster.example")
    assert f"<h1>{heading}</h1>" in client.get(url).text
    assert f"<h2>{heading}</h2>" in client.get(url, headers=HTMX).text
