"""„Passwort vergessen?“ and two-factor sign-in through the browser (German UI)."""

from __future__ import annotations

import itertools
import re
import time

import pyotp
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests import factories
from tests.e2e.conftest import sign_in
from tests.e2e.test_login import axe_violations
from webapp.models import MailMessage, Role

PASSWORD = "secret-password-1"
_seq = itertools.count(1)


@pytest.fixture
def new_admin(live_app):
    """A fresh admin of a customer of their own in the live database (data persists across tests)."""
    from webapp.extensions import db

    email = f"e2e-konto-{next(_seq)}-{int(time.time() * 1000)}@test.example"
    with live_app.app_context():
        customer = factories.customer(db.session)
        factories.user(db.session, email=email, password=PASSWORD, roles=[(Role.IPFONIE_ADMIN, customer)])
        db.session.commit()
    return email


def last_mail_to(live_app, email: str) -> MailMessage:
    from webapp.extensions import db

    with live_app.app_context():
        return db.session.scalar(select(MailMessage).where(MailMessage.recipient == email)
                                 .order_by(MailMessage.id.desc()))


def test_forgot_password_mail_new_password_signed_in_and_the_old_session_ended(browser, base_url, live_app, new_admin):
    old = browser.new_context(base_url=base_url, locale="de-DE")
    old_page = old.new_page()
    sign_in(old_page, new_admin, PASSWORD)
    expect(old_page).to_have_url(re.compile(r"/ums$"))

    page = browser.new_context(base_url=base_url, locale="de-DE").new_page()
    page.goto("/login")
    page.get_by_role("link", name="Passwort vergessen?").click()
    expect(page.get_by_role("heading", level=1, name="Passwort vergessen?")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_label("E-Mail-Adresse").fill(new_admin)
    page.get_by_role("button", name="Link senden").click()
    expect(page.get_by_role("heading", level=1, name="Prüfen Sie Ihr Postfach")).to_be_visible()

    mail = last_mail_to(live_app, new_admin)
    assert mail.subject == "Passwort für das UMS-Portal zurücksetzen"
    link = re.search(r"(/reset-password/\S+)", mail.body_text).group(1)
    page.goto(link)
    expect(page.get_by_role("heading", level=1, name="Neues Passwort wählen")).to_be_visible()
    page.get_by_label("Neues Passwort").fill("a-brand-new-password")
    page.get_by_label("Passwort wiederholen").fill("a-brand-new-password")
    page.get_by_role("button", name="Passwort speichern").click()
    expect(page).to_have_url(re.compile(r"/ums$"))
    expect(page.get_by_text("Jede andere Sitzung Ihres Logins wurde beendet.")).to_be_visible()

    old_page.reload()
    expect(old_page).to_have_url(re.compile(r"/login(\?.*)?$"))
    # the link worked once
    page.goto(link)
    expect(page.get_by_role("heading", level=1, name="Link nicht mehr gültig")).to_be_visible()
    old.close()
    page.context.close()


def test_two_factor_set_up_then_sign_in_with_a_code_and_with_a_recovery_code(page, new_admin):
    sign_in(page, new_admin, PASSWORD)
    page.get_by_role("navigation", name="Hauptnavigation").get_by_role("link", name="Mein Konto").click()
    expect(page.get_by_role("heading", level=1, name="Mein Konto")).to_be_visible()
    expect(page.get_by_role("region", name="Aktive Sitzungen").get_by_text("(dieser Browser)")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Zwei-Faktor-Anmeldung einrichten").click()
    expect(page.get_by_role("img", name="QR-Code für Ihre Authenticator-App")).to_be_visible()
    assert axe_violations(page) == []
    secret = page.get_by_test_id("totp-secret").inner_text().replace(" ", "")
    otp = pyotp.TOTP(secret)
    page.get_by_label("Code aus der App").fill(otp.now())
    page.get_by_role("button", name="Zwei-Faktor-Anmeldung einschalten").click()
    codes = page.get_by_test_id("recovery-codes").get_by_role("listitem")
    expect(codes).to_have_count(10)
    recovery = codes.first.inner_text().strip()
    page.get_by_role("button", name="Ich habe sie sicher aufbewahrt").click()
    expect(page.get_by_text("Zwei-Faktor-Anmeldung ist eingeschaltet seit")).to_be_visible()
    page.get_by_role("button", name="Abmelden", exact=True).click()

    # password, then the app's code (the set-up used this step's code: the next one is accepted)
    sign_in(page, new_admin, PASSWORD)
    expect(page.get_by_role("heading", level=1, name="Zwei-Faktor-Anmeldung")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_label("Code").fill("123")
    page.get_by_role("button", name="Bestätigen").click()
    expect(page.get_by_role("alert").first).to_contain_text("Dieser Code ist nicht korrekt.")
    page.get_by_label("Code").fill(otp.at(time.time() + 30))
    page.get_by_role("button", name="Bestätigen").click()
    expect(page).to_have_url(re.compile(r"/ums$"))
    page.get_by_role("button", name="Abmelden", exact=True).click()

    # password, then a recovery code
    sign_in(page, new_admin, PASSWORD)
    page.get_by_label("Code").fill(recovery)
    page.get_by_role("button", name="Bestätigen").click()
    expect(page).to_have_url(re.compile(r"/ums$"))
    expect(page.get_by_text("9 davon sind noch übrig")).to_be_visible()


def test_my_account_ends_another_session_changes_the_password_and_signs_out_everywhere(browser, base_url, new_admin):
    other = browser.new_context(base_url=base_url, locale="de-DE")
    other_page = other.new_page()
    sign_in(other_page, new_admin, PASSWORD)
    page = browser.new_context(base_url=base_url, locale="de-DE").new_page()
    sign_in(page, new_admin, PASSWORD)
    page.goto("/account")
    sessions = page.get_by_role("region", name="Aktive Sitzungen")
    expect(sessions.get_by_role("row")).to_have_count(3)  # the head and two sessions
    sessions.get_by_role("button", name=re.compile("^Sitzung auf .* beenden$")).click()
    expect(page.get_by_role("status").filter(has_text="Die Sitzung wurde beendet.")).to_be_visible()
    expect(sessions.get_by_role("row")).to_have_count(2)
    other_page.reload()
    expect(other_page).to_have_url(re.compile(r"/login(\?.*)?$"))

    password = page.get_by_role("region", name="Passwort ändern")
    password.get_by_label("Aktuelles Passwort").fill("not-my-password")
    password.get_by_label("Neues Passwort").fill("changed-password-7")
    password.get_by_label("Passwort wiederholen").fill("changed-password-7")
    password.get_by_role("button", name="Passwort ändern").click()
    expect(password.get_by_role("alert")).to_have_text("Das aktuelle Passwort ist nicht korrekt.")
    password.get_by_label("Aktuelles Passwort").fill(PASSWORD)
    password.get_by_label("Neues Passwort").fill("changed-password-7")
    password.get_by_label("Passwort wiederholen").fill("changed-password-7")
    password.get_by_role("button", name="Passwort ändern").click()
    expect(password.get_by_text("Ihr Passwort ist geändert.")).to_be_visible()
    page.reload()  # this browser goes on with its new session
    expect(page.get_by_role("heading", level=1, name="Mein Konto")).to_be_visible()

    page.get_by_role("button", name="Überall abmelden").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_text("Sie wurden auf allen Geräten abgemeldet.")).to_be_visible()
    sign_in(page, new_admin, "changed-password-7")
    expect(page).to_have_url(re.compile(r"/ums$"))
    other.close()
    page.context.close()
