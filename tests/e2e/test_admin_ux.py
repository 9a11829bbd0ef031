"""Everyday use in a browser (issue 11): the CSV import with a bad row and then the fixed file,
Enter after htmx swaps, toasts, busy states, sorting. Profiles made here use the e2e-ux domain
and are removed at the end, so the demo licence line is 2 / 5 again for other browser tests."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in

ADMIN = "admin@muster.example"
DOMAIN = "e2e-ux.example"
RUN = uuid.uuid4().hex[:6]
HEADER = "Vertrag / Enterprise;Standort / Gruppe;Name;Vorname;E-Mail-Adresse;Sprache\n"


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


def choose_file(page: Page, text: str) -> None:
    page.get_by_label("CSV-Datei").set_input_files(
        files=[{"name": "profile.csv", "mimeType": "text/csv", "buffer": text.encode("utf-8")}])
    page.get_by_role("button", name="Datei prüfen").click()


def test_csv_import_shows_the_bad_rows_error_imports_nothing_then_the_fixed_file_imports_all(page: Page):
    sign_in(page, ADMIN)
    page.goto("/ums")
    expect(page.locator("table.licence-table")).to_contain_text("2 / 5")
    page.get_by_role("link", name="Aus CSV importieren").click()
    expect(page.get_by_role("heading", name="UMS-Profile aus CSV importieren")).to_be_visible()
    expect(page.get_by_role("link", name="Vorlage herunterladen (CSV)")).to_be_visible()

    good = f"V-200001;Hamburg;Import;Ida;ida.{RUN}@{DOMAIN};de\n"
    bad = f"V-200001;Paris;Import;Ole;ole.{RUN}@{DOMAIN};de\n"
    choose_file(page, HEADER + good + bad)
    expect(page.get_by_test_id("import-summary")).to_contain_text("nichts importiert")
    bad_row = page.locator("#import-line-3")
    expect(bad_row).to_contain_text("Unbekannter Standort „Paris“")
    expect(page.locator("#import-line-2")).to_contain_text("wird angelegt")
    expect(page.get_by_role("button", name=re.compile("importieren"))).to_have_count(0)
    page.goto("/ums")
    expect(page.locator("table.licence-table")).to_contain_text("2 / 5")  # nothing was imported

    page.goto("/ums/import")
    choose_file(page, HEADER + good + bad.replace("Paris", "Berlin Zentrale"))
    expect(page.get_by_test_id("import-summary")).to_contain_text("2 UMS-Profile werden angelegt")
    page.get_by_role("button", name="2 UMS-Profile importieren").click()
    expect(page.get_by_text("2 UMS-Profile importiert")).to_be_visible()
    expect(page.locator("table.licence-table")).to_contain_text("4 / 5")
    page.get_by_label("Suche nach Name oder E-Mail").fill(RUN)
    expect(page.locator("#profile-list tbody tr")).to_have_count(2)


def test_enter_in_the_number_search_after_an_assignment_searches(page: Page):
    sign_in(page, ADMIN)
    page.goto(f"/ums?q=ida.{RUN}")
    page.get_by_role("link", name="Import, Ida").click()
    expect(page.get_by_role("heading", name="Unified Messaging Profil bearbeiten")).to_be_visible()
    page.get_by_label("Freie Rufnummern für Fax suchen").fill("040 7654321-4")
    select = page.get_by_label("Freie Rufnummer für Fax")
    expect(select.locator("option", has_text=re.compile(r"^040 7654321-5$"))).to_have_count(0)  # searched
    expect(select.locator("option", has_text=re.compile(r"^040 7654321-4$"))).to_have_count(1)
    select.select_option(label="040 7654321-4")
    page.get_by_role("button", name="Rufnummer Fax zuweisen").click()
    expect(page.get_by_test_id("number-fax")).to_have_text("040 7654321-4")

    # the region was swapped: Enter in its search field searches, it does not send a noscript button
    search = page.get_by_label("Freie Rufnummern für Fax suchen")
    search.evaluate("el => { el.value = '12'; }")  # typed without an input event: only Enter can search
    search.press("Enter")
    expect(page.get_by_label("Freie Rufnummer für Fax").locator("option", has_text=re.compile(r"^040 7654321-12$"))).to_have_count(1)
    expect(page.get_by_label("Freie Rufnummer für Fax").locator("option", has_text=re.compile(r"^040 7654321-5$"))).to_have_count(0)
    expect(page.get_by_role("heading", name="Allgemeine Stammdaten")).to_have_count(1)
    expect(page.get_by_role("heading", name="Dienste und Rufnummern")).to_have_count(1)
    expect(page.get_by_test_id("number-fax")).to_have_text("040 7654321-4")  # nothing assigned by Enter
    expect(page).not_to_have_url(re.compile(r"csrf_token"))

    # „Rufnummer freigeben“ offers to undo it
    page.get_by_role("button", name="Rufnummer von Fax freigeben").click()
    undo = page.get_by_role("button", name="Rückgängig: 040 7654321-4 wieder zuweisen")
    expect(undo).to_be_focused()
    undo.click()
    expect(page.get_by_test_id("number-fax")).to_have_text("040 7654321-4")


def test_enter_in_the_create_form_after_a_refusal_posts_and_shows_the_reason(page: Page):
    sign_in(page, ADMIN)
    page.goto("/ums/profiles/new")
    page.get_by_label("Standort / Gruppe").select_option(label="Hamburg")
    page.get_by_label("Name", exact=True).fill("Enter")
    page.get_by_role("button", name="Speichern").click()
    expect(page.locator("#first_name-errors")).to_be_visible()
    # the swapped form must not carry a real "Show the sites" (noscript) button that takes Enter
    expect(page.locator("#profile-form noscript")).to_have_count(0)
    page.get_by_label("Vorname", exact=True).fill("Erna")
    page.get_by_label("E-Mail-Adresse", exact=True).fill(f"ida.{RUN}@{DOMAIN}")  # taken by the import
    page.get_by_label("E-Mail-Adresse", exact=True).press("Enter")
    expect(page.locator("#email-errors")).to_contain_text("bereits")
    expect(page).not_to_have_url(re.compile(r"csrf_token"))


def test_toasts_stay_at_three_can_be_closed_and_are_announced(page: Page):
    sign_in(page, ADMIN)
    page.goto("/ums")
    for n in range(1, 5):
        page.evaluate("n => document.body.dispatchEvent(new CustomEvent('toast', {bubbles: true, detail: {value: 'Meldung ' + n}}))", n)
    toasts = page.locator("#toasts .toast")
    expect(toasts).to_have_count(3)
    expect(toasts.first).to_contain_text("Meldung 2")  # the oldest went
    expect(page.locator("#toasts")).to_have_attribute("aria-live", "polite")
    toasts.nth(1).get_by_role("button", name="Meldung schließen").click()
    expect(toasts).to_have_count(2)
    expect(page.get_by_text("Meldung 3")).to_have_count(0)
    page.keyboard.press("Escape")
    expect(toasts).to_have_count(1)


def test_speech_synthesis_shows_a_busy_button_while_it_runs(page: Page, live_app):
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import UmsProfile

    with live_app.app_context():
        anna = db.session.scalar(select(UmsProfile.id).where(UmsProfile.email == "anna.schmidt@muster.example"))
    sign_in(page, "anna.schmidt@muster.example")
    page.goto(f"/profiles/{anna}/voicemail/greetings")
    card = page.locator("#greeting-busy")
    card.get_by_text("Neue Ansage").click()
    held = []
    page.route(re.compile(r".*/voicemail/greetings/busy$"), lambda route: held.append(route))
    card.get_by_label("Text der Ansage").fill("Ich telefoniere gerade.")
    button = card.get_by_role("button", name="Sprechen lassen und Vorschau erstellen")
    button.click()
    busy = card.get_by_role("button", name="Text wird gesprochen …")
    expect(busy).to_be_disabled()
    expect(busy).to_have_attribute("aria-busy", "true")
    assert held
    held[0].continue_()
    page.unroute(re.compile(r".*/voicemail/greetings/busy$"))
    expect(card.get_by_role("heading", name="Vorschau")).to_be_visible()
    card.get_by_role("button", name="Verwerfen").click()


def test_the_profile_list_sorts_by_a_column_both_ways_in_the_url(page: Page):
    sign_in(page, ADMIN)
    page.goto("/ums")
    page.get_by_role("link", name=re.compile(r"^E-Mail-Adresse")).click()
    expect(page).to_have_url(re.compile(r"sort=email"))
    expect(page.locator("th[aria-sort='ascending']")).to_contain_text("E-Mail-Adresse")
    page.get_by_role("link", name=re.compile(r"^E-Mail-Adresse")).click()
    expect(page).to_have_url(re.compile(r"sort=email&dir=desc"))
    emails = page.locator("#profile-list td[data-label='E-Mail-Adresse']").all_inner_texts()
    assert emails == sorted(emails, reverse=True)
    # the search keeps the order
    page.get_by_label("Suche nach Name oder E-Mail").fill("muster")
    expect(page).to_have_url(re.compile(r"q=muster.*sort=email|sort=email.*q=muster"))


def test_no_noscript_button_comes_alive_after_a_history_restore(page: Page):
    sign_in(page, ADMIN)
    page.goto("/ums")
    page.get_by_label("Suche nach Name oder E-Mail").fill("schmidt")
    expect(page).to_have_url(re.compile(r"q=schmidt"))
    page.go_back()  # htmx puts the page back from its history cache
    expect(page).not_to_have_url(re.compile(r"q=schmidt"))
    expect(page.get_by_label("Suche nach Name oder E-Mail")).to_have_value("")
    expect(page.locator("noscript button")).to_have_count(0)
    expect(page.get_by_role("button", name="Filtern")).to_have_count(0)


def test_greeting_upload_shows_progress_and_a_busy_button(page: Page, live_app):
    from sqlalchemy import select

    from tests.services.test_audio import tone
    from webapp.extensions import db
    from webapp.models import UmsProfile

    with live_app.app_context():
        anna = db.session.scalar(select(UmsProfile.id).where(UmsProfile.email == "anna.schmidt@muster.example"))
    sign_in(page, "anna.schmidt@muster.example")
    page.goto(f"/profiles/{anna}/voicemail/greetings")
    card = page.locator("#greeting-busy")
    card.get_by_text("Neue Ansage").click()
    held = []
    page.route(re.compile(r".*/voicemail/greetings/busy$"), lambda route: held.append(route))
    card.get_by_label("Audiodatei").set_input_files(
        files=[{"name": "ansage.wav", "mimeType": "audio/wav", "buffer": tone("wav", 1.0)}])
    card.get_by_role("button", name="Hochladen und Vorschau erstellen").click()
    expect(card.get_by_role("button", name="Wird hochgeladen und geprüft …")).to_be_disabled()
    expect(card.get_by_role("progressbar", name="Fortschritt des Hochladens")).to_be_visible()
    held[0].continue_()
    page.unroute(re.compile(r".*/voicemail/greetings/busy$"))
    expect(card.get_by_role("heading", name="Vorschau")).to_be_visible()
    expect(card.get_by_role("progressbar")).to_have_count(0)  # hidden again with the new card
    card.get_by_role("button", name="Verwerfen").click()


@pytest.mark.parametrize("width", [390, 1280])
def test_list_tools_and_import_preview_pass_axe_and_fit_a_phone(page: Page, width):
    from tests.e2e.test_login import axe_violations

    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, ADMIN)
    found = {}
    page.goto("/ums?sort=site&dir=desc&size=10")
    found["list"] = axe_violations(page)
    fits = {"list": page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")}
    page.goto("/ums/import")
    choose_file(page, HEADER + f"V-200001;Paris;Axe;Anton;anton.{RUN}@{DOMAIN};xx\n")
    expect(page.get_by_test_id("import-summary")).to_be_visible()
    found["import"] = axe_violations(page)
    fits["import"] = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert not any(found.values()), found
    assert all(fits.values()), fits
