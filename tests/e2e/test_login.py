"""Signing in and out through the browser, and the language switch (German UI by default)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect
from sqlalchemy import select

from tests.e2e.conftest import sign_in

# login → (landing path, its h1)
DEMO_DASHBOARDS = [
    ("admin@muster.example", "/ums", "Unified Messaging"),
    ("admin2@muster.example", "/ums", "Unified Messaging"),
    ("anna.schmidt@muster.example", "/me", "Meine Dienste"),
    ("cf-admin@beispiel.example", "/ums", "Unified Messaging"),
    ("reseller@partner.example", "/ums", "Unified Messaging"),
    ("mandant@nord.example", "/ums", "Unified Messaging"),
    ("betrieb@carrier.example", "/backoffice", "Back Office"),
]


def signed_out_at_login(page) -> None:
    expect(page).to_have_url(re.compile(r"/login(\?.*)?$"))
    expect(page.get_by_role("heading", level=1, name="Anmelden")).to_be_visible()


@pytest.mark.parametrize(("email", "path", "heading"), DEMO_DASHBOARDS)
def test_every_demo_login_lands_on_its_dashboard(page, email, path, heading):
    sign_in(page, email)
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
    expect(page.get_by_role("button", name="Abmelden")).to_be_visible()


def test_the_ums_user_dashboard_shows_annas_three_services(page):
    sign_in(page, "anna.schmidt@muster.example")
    services = page.get_by_role("region", name="Dienste")
    for name in ("Fax", "Anrufbeantworter", "Konferenz"):
        expect(services.get_by_role("heading", level=2, name=name)).to_be_visible()


def test_wrong_password_returns_to_the_form_with_one_neutral_message(page):
    sign_in(page, "admin@muster.example", "not-the-password")
    signed_out_at_login(page)
    alert = page.get_by_role("alert").filter(has_text="E-Mail-Adresse oder Passwort ist nicht korrekt.")
    expect(alert).to_have_count(1)
    expect(page.get_by_label("E-Mail-Adresse")).to_have_value("admin@muster.example")
    expect(page.get_by_label("Passwort")).to_have_value("")


def test_unknown_login_gets_the_same_message(page):
    sign_in(page, "niemand@muster.example", "not-the-password")
    expect(page.get_by_role("alert")).to_have_text("E-Mail-Adresse oder Passwort ist nicht korrekt.")


def test_logout_ends_the_session(page):
    sign_in(page, "admin@muster.example")
    expect(page).to_have_url(re.compile(r"/ums$"))
    page.get_by_role("button", name="Abmelden").click()
    signed_out_at_login(page)
    expect(page.get_by_text("Sie wurden abgemeldet.")).to_be_visible()
    page.goto("/ums")
    signed_out_at_login(page)


def test_after_login_the_user_returns_to_the_page_asked_for(page):
    page.goto("/contracts")
    signed_out_at_login(page)
    page.get_by_label("E-Mail-Adresse").fill("admin@muster.example")
    page.get_by_label("Passwort").fill("demo-admin-2026")
    page.get_by_role("button", name="Anmelden").click()
    expect(page).to_have_url(re.compile(r"/contracts$"))


def test_language_switch_signed_out_persists_on_reload(page):
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.reload()
    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    expect(page.get_by_label("Password")).to_be_visible()
    page.get_by_role("button", name="Deutsch").click()
    expect(page.get_by_role("heading", level=1, name="Anmelden")).to_be_visible()


@pytest.fixture
def restore_locale(live_app):
    """The signed-in switch stores the language on the user; put it back for other tests."""
    emails: list[str] = []
    yield emails.append
    from webapp.extensions import db
    from webapp.models import User

    with live_app.app_context():
        for user in db.session.scalars(select(User).where(User.email.in_(emails))):
            user.locale = None
        db.session.commit()


def test_language_switch_signed_in_stays_on_the_page_and_follows_the_user(page, restore_locale):
    email = "betrieb@carrier.example"
    restore_locale(email)
    sign_in(page, email)
    expect(page.get_by_role("heading", level=1, name="Back Office")).to_be_visible()
    page.get_by_role("button", name="English").click()
    expect(page).to_have_url(re.compile(r"/backoffice$"))
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.reload()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    # a new browser without the cookie: the language comes with the login
    page.context.clear_cookies()
    sign_in(page, email)  # the form is German again until the user is known
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.get_by_role("button", name="Deutsch").click()
    expect(page.get_by_role("button", name="Abmelden")).to_be_visible()


# --- the shell under its Content-Security-Policy, by keyboard ------------------------------------


def test_pages_and_htmx_swaps_work_under_the_content_security_policy(page):
    refused: list[str] = []
    page.on("console", lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None)
    sign_in(page, "anna.schmidt@muster.example")
    expect(page.get_by_role("heading", level=1, name="Meine Dienste")).to_be_visible()
    page.wait_for_function("typeof htmx === 'object'")  # deferred: it may run after the heading shows
    # htmx adds no <style> of its own (includeIndicatorStyles off): app.css styles the indicators
    assert page.evaluate("document.querySelectorAll('style').length") == 0
    page.get_by_role("button", name=re.compile("Anrufbeantworter")).click()
    expect(page.get_by_role("heading", level=1, name="Anrufbeantworter")).to_be_visible()
    page.goto(page.url + "/greetings")
    page.goto("/contracts")
    page.goto("/ums")
    assert refused == []
    # and an injected inline script does not run
    with pytest.raises(PlaywrightError, match="Content Security Policy"):
        page.add_script_tag(content="window.injected = true")
    assert page.evaluate("window.injected") is None


def test_keyboard_only_sign_in_through_the_skip_link_and_the_navigation(page):
    page.goto("/login")
    expect(page.get_by_label("E-Mail-Adresse")).to_be_focused()  # autofocus
    page.keyboard.type("admin@muster.example")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Passwort")).to_be_focused()
    page.keyboard.type("demo-admin-2026")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/ums$"))

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Zum Inhalt springen")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    navigation = page.get_by_role("navigation", name="Hauptnavigation")
    menu = navigation.locator("summary", has_text="Globale Verwaltung")
    menu.focus()
    page.keyboard.press("Enter")  # opens the menu
    link = navigation.get_by_role("link", name="Aktive Verträge")
    expect(link).to_be_visible()
    page.keyboard.press("Tab")
    expect(link).to_be_focused()
    # the focused link shows a visible outline or box-shadow ring
    ring = link.evaluate("e => { const s = getComputedStyle(e); return s.outlineStyle + ' ' + s.boxShadow }")
    assert ring != "none none", ring
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/contracts$"))
    expect(page).to_have_title("Aktive Verträge · UMS-Portal")


AXE = Path(__file__).with_name("assets") / "axe-4.14.1.min.js"  # axe-core (MPL-2.0), a test asset only


def axe_violations(page) -> list[str]:
    """WCAG 2.1 A/AA and best-practice violations axe-core finds on the page."""
    page.evaluate(AXE.read_text())  # through DevTools: the page's CSP rightly refuses an injected <script>
    result = page.evaluate(
        "axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']})")
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}" for v in result["violations"]]


@pytest.mark.parametrize("width", [390, 1280])
def test_the_shell_pages_pass_axe_at_phone_and_desktop_width(page, width):
    page.set_viewport_size({"width": width, "height": 900})
    found = {}
    for path in ("/login", "/no-such-page"):
        page.goto(path)
        found[path] = axe_violations(page)
    sign_in(page, "anna.schmidt@muster.example")
    services = page.url
    for path in (services, services.replace("/me", "/contracts")):
        page.goto(path)
        found[path] = axe_violations(page)
    fax = page.get_by_role("button", name="Fax öffnen")
    if fax.count():
        page.goto(fax.get_attribute("href"))
        found["fax"] = axe_violations(page)
    assert not any(found.values()), found
