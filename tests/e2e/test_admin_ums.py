"""The FAQ path of the UMS administration in a browser, as admin@muster.example.

The tests run in file order and share the live server's data (``STATE``): create → numbers →
e-mail change and invitation → delete. Everything they create uses the e2e-admin domain and is
removed at the end, so the demo licence line is 2 / 5 again for other browser tests.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in

ADMIN = "admin@muster.example"
DOMAIN = "e2e-admin.example"
RUN = uuid.uuid4().hex[:6]
STATE: dict[str, str] = {}


@pytest.fixture(scope="module", autouse=True)
def remove_what_this_module_created(live_app):
    yield
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import UmsProfile, User
    from webapp.services import profiles

    with live_app.app_context():
        session = db.session
        admin = session.scalar(select(User).where(User.email == ADMIN))
        for profile in session.scalars(select(UmsProfile).where(UmsProfile.email_normalized.like(f"%@{DOMAIN}"))):
            profiles.delete_profile(session, admin, profile)
        session.commit()


def licence_cell(page: Page, contract: str = "V-200001"):
    return page.locator("table.licence-table").get_by_role("row", name=re.compile(contract))


def open_create_form(page: Page) -> None:
    page.goto("/ums")
    page.get_by_role("link", name="Unified Messaging Profil anlegen").click()
    expect(page.get_by_role("heading", name="Unified Messaging Profil anlegen")).to_be_visible()


def fill_profile(page: Page, last: str, first: str, email: str, site: str = "Berlin Zentrale") -> None:
    page.get_by_label("Vertrag / Enterprise").select_option(label="V-200001 · Muster GmbH")
    page.get_by_label("Standort / Gruppe").select_option(label=site)
    page.get_by_label("Name", exact=True).fill(last)
    page.get_by_label("Vorname", exact=True).fill(first)
    page.get_by_label("E-Mail-Adresse", exact=True).fill(email)
    page.get_by_role("button", name="Speichern").click()


def test_create_profile_on_the_faq_path_and_the_licence_rules(page: Page):
    sign_in(page, ADMIN)
    navigation = page.get_by_role("navigation", name="Hauptnavigation")
    navigation.get_by_text("IPfonie SIP", exact=True).click()  # the FAQ: „IPfonie SIP“ → „Unified Messaging“
    navigation.get_by_role("link", name="Unified Messaging").click()
    expect(page.get_by_role("heading", name="Unified Messaging", exact=True)).to_be_visible()
    expect(licence_cell(page)).to_contain_text("2 / 5")

    email = f"lena.lang.{RUN}@{DOMAIN}"
    open_create_form(page)
    expect(page.get_by_label("Lizenz")).to_have_text("2 / 5")
    fill_profile(page, "Lang", "Lena", email)
    expect(page.get_by_role("heading", name="Unified Messaging Profil bearbeiten")).to_be_visible()
    expect(page.get_by_test_id("current-email")).to_have_text(email)
    STATE["profile_url"] = page.url
    STATE["email"] = email

    page.goto("/ums")
    expect(licence_cell(page)).to_contain_text("3 / 5")
    expect(page.get_by_role("row", name=re.compile("Lang, Lena"))).to_contain_text(email)

    # the same address in other letters is refused next to the field; what was typed stays
    open_create_form(page)
    fill_profile(page, "Doppelt", "Dora", email.upper())
    expect(page.locator("#email-errors")).to_contain_text("bereits vergeben")
    expect(page.get_by_label("E-Mail-Adresse", exact=True)).to_be_focused()  # keyboard users land on it
    expect(page.get_by_label("Name", exact=True)).to_have_value("Doppelt")
    expect(page.get_by_label("E-Mail-Adresse", exact=True)).to_have_value(email.upper())

    # use up the licences: 4 / 5, 5 / 5, then the next create is refused with what to do
    for n in (1, 2):
        open_create_form(page)
        fill_profile(page, f"Fuell{n}", "Fritz", f"fill{n}.{RUN}@{DOMAIN}", site="Hamburg")
        expect(page.get_by_role("heading", name="Unified Messaging Profil bearbeiten")).to_be_visible()
    open_create_form(page)
    expect(page.get_by_label("Lizenz")).to_have_text("5 / 5")
    fill_profile(page, "Zuviel", "Zora", f"too.many.{RUN}@{DOMAIN}")
    expect(page.locator("#licence-errors")).to_contain_text("Nachbestellung")
    page.goto("/ums")
    expect(licence_cell(page)).to_contain_text("5 / 5")


def assign(page: Page, service: str, extension: str) -> None:
    page.get_by_label(f"Freie Rufnummern für {service} suchen").fill(extension)
    option = f"030 1234567-{extension}"
    select = page.get_by_label(f"Freie Rufnummer für {service}")
    expect(select.locator("option", has_text=re.compile(rf"^{re.escape(option)}$"))).to_have_count(1)
    select.select_option(label=option)
    page.get_by_role("button", name=f"Rufnummer {service} zuweisen").click()


def test_assign_three_numbers_and_see_them_in_the_list(page: Page):
    sign_in(page, ADMIN)
    page.goto(STATE["profile_url"])
    for service, extension, testid in (("Fax", "81", "number-fax"), ("Anrufbeantworter", "82", "number-voicemail"),
                                       ("Konferenz", "83", "number-conference")):
        assign(page, service, extension)
        expect(page.get_by_test_id(testid)).to_have_text(f"030 1234567-{extension}")
        expect(page.get_by_role("button", name=f"Rufnummer {service} zuweisen")).to_be_focused()
    # the site is now fixed, and says why
    expect(page.get_by_label("Standort / Gruppe")).to_be_disabled()
    # a number in use is no longer offered
    page.get_by_label("Freie Rufnummern für Fax suchen").fill("81")
    expect(page.get_by_label("Freie Rufnummer für Fax").locator("option", has_text="030 1234567-81")).to_have_count(0)

    page.goto("/ums")
    page.get_by_label("Suche nach Name oder E-Mail").fill("lena.lang")
    expect(page).to_have_url(re.compile(r"q=lena\.lang"))
    row = page.get_by_role("row", name=re.compile("Lang, Lena"))
    for extension in ("81", "82", "83"):
        expect(row).to_contain_text(f"030 1234567-{extension}")
    expect(page.locator("#profile-list").get_by_role("row")).to_have_count(2)  # header + Lena
    expect(page.get_by_role("status").filter(has_text="gefunden")).to_have_text("1 UMS-Profil gefunden.")
    expect(page.get_by_label("Suche nach Name oder E-Mail")).to_be_focused()
    page.reload()
    expect(page.get_by_label("Suche nach Name oder E-Mail")).to_have_value("lena.lang")
    expect(page.get_by_role("row", name=re.compile("Lang, Lena"))).to_be_visible()
    page.get_by_label("Suche nach Name oder E-Mail").fill("niemand-heisst-so")
    expect(page.get_by_text("Kein UMS-Profil passt zu Ihrer Suche")).to_be_visible()
    expect(page).to_have_url(re.compile(r"q=niemand-heisst-so"))
    page.go_back()
    expect(page).to_have_url(re.compile(r"q=lena\.lang"))
    expect(page.get_by_role("row", name=re.compile("Lang, Lena"))).to_be_visible()


def newest_mail_body(page: Page, recipient: str, subject: str) -> str:
    mailbox = page.context.new_page()
    mailbox.goto("/dev/mailbox")
    mailbox.get_by_role("row").filter(has_text=recipient).filter(has_text=subject).first \
        .get_by_role("link").click()
    body = mailbox.get_by_test_id("mail-body").inner_text()
    mailbox.close()
    return body


def test_change_email_by_code_then_the_invited_person_sets_a_password(page: Page):
    sign_in(page, ADMIN)
    page.goto(STATE["profile_url"])
    old = STATE["email"]
    new = f"lena.neu.{RUN}@{DOMAIN}"
    page.get_by_role("button", name="Code anfordern, um die E-Mail-Adresse zu ändern").click()
    key_button = page.get_by_role("button", name="Code eingeben, um die E-Mail-Adresse zu ändern")
    expect(key_button).to_be_visible()
    expect(page.get_by_label("Code aus der E-Mail")).to_be_focused()  # the button pressed is gone

    code = re.search(r"\b(\d{6})\b", newest_mail_body(page, old, "Ihr Code zur Änderung")).group(1)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    page.get_by_label("Code aus der E-Mail").fill(wrong)
    key_button.click()
    expect(page.locator("#code-errors")).to_contain_text("Noch 4 Versuche")
    page.get_by_label("Code aus der E-Mail").fill(code)
    key_button.click()
    expect(page.get_by_label("Neue E-Mail-Adresse")).to_be_focused()
    page.get_by_label("Neue E-Mail-Adresse").fill(new)
    page.get_by_role("button", name="Neue E-Mail-Adresse speichern").click()
    expect(page.get_by_test_id("current-email")).to_have_text(new)
    expect(page.get_by_role("button", name="Code anfordern, um die E-Mail-Adresse zu ändern")).to_be_visible()

    # the invitation (sent to the old address when the profile was created) lets Lena set a password
    body = newest_mail_body(page, old, "Ihr UMS-Zugang")
    path = re.search(r"(/set-password/\S+)", body).group(1)
    page.get_by_role("button", name="Abmelden").click()
    page.goto(path)
    page.get_by_label("Neues Passwort").fill("lena-password-2026")
    page.get_by_label("Passwort wiederholen").fill("lena-password-2026")
    page.get_by_role("button", name="Passwort speichern").click()
    expect(page.get_by_role("heading", name="Meine Dienste")).to_be_visible()
    page.get_by_role("button", name="Abmelden").click()
    sign_in(page, new, "lena-password-2026")
    expect(page.get_by_role("heading", name="Meine Dienste")).to_be_visible()
    expect(page.get_by_text("030 1234567-81").or_(page.get_by_text("030 123456781"))).to_be_visible()


def test_delete_with_a_confirmation_that_names_what_is_lost(page: Page):
    sign_in(page, ADMIN)
    page.goto("/ums?q=fill1")
    page.get_by_role("link", name="Fuell1, Fritz").click()
    page.get_by_role("button", name="Profil löschen …").or_(page.get_by_role("link", name="Profil löschen …")).click()
    expect(page.get_by_role("heading", name="UMS-Profil von Fritz Fuell1 löschen?")).to_be_visible()
    expect(page.get_by_text("seine Lizenz auf Vertrag V-200001 wird wieder frei")).to_be_visible()
    page.get_by_role("button", name="Profil endgültig löschen").click()
    expect(page.get_by_text("Das UMS-Profil von Fritz Fuell1 ist gelöscht")).to_be_visible()
    expect(licence_cell(page)).to_contain_text("4 / 5")


def test_phone_width_overview_and_form(page: Page):
    page.set_viewport_size({"width": 375, "height": 740})
    sign_in(page, ADMIN)
    page.goto("/ums")
    plus = page.get_by_role("link", name="Unified Messaging Profil anlegen")
    expect(plus).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    plus.click()
    expect(page.get_by_role("button", name="Speichern")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
