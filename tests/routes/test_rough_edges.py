"""The rough edges a new user hit (issue 11, points 7–14), as far as the server decides them; the
browser parts (Enter after a swap, toasts, busy states) are in tests/e2e/test_admin_ux.py."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.conftest import HTMX, login
from tests.services.test_voicemail import ANNA_NUMBER, deposit, settings_input
from webapp.models import MailMessage, UmsProfile, User
from webapp.services import voicemail as vm

ADMIN = "admin@muster.example"


def anna(session) -> UmsProfile:
    return session.scalar(select(UmsProfile).where(UmsProfile.email == "anna.schmidt@muster.example"))


# --- 8: numbers keep the extension dash everywhere ------------------------------------------------


def test_voicemail_heading_shows_the_number_with_its_extension(client, db_session):
    login(client, "anna.schmidt@muster.example")
    page = client.get(f"/profiles/{anna(db_session).id}/voicemail").text
    assert "030 1234567-11" in page and "030 123456711" not in page


def test_notification_and_pin_lock_mails_show_the_number_with_its_extension(db_session):
    profile = anna(db_session)
    user = db_session.scalar(select(User).where(User.email == profile.email))
    vm.update_settings(db_session, user, profile, settings_input(notify_email=True))
    deposit(db_session, caller="+4940123456789")
    mail = db_session.scalars(select(MailMessage).order_by(MailMessage.id.desc())).first()
    assert "030 1234567-11" in mail.body_text and "030 123456711" not in mail.body_text

    vm.set_pin(db_session, user, profile, "394817")
    for wrong in ("000001", "000002", "000003"):
        vm.check_pin(db_session, ANNA_NUMBER, wrong)
    locked = db_session.scalars(select(MailMessage).order_by(MailMessage.id.desc())).first()
    assert "030 1234567-11" in locked.body_text


def test_audit_trail_shows_released_numbers_with_their_extension(client, db_session):
    login(client, ADMIN)
    profile = anna(db_session)
    client.post(f"/ums/profiles/{profile.id}/services/voicemail/release", headers=HTMX)
    page = client.get(f"/ums/audit?profile={profile.id}&action=number.released").text
    assert "Rufnummer: 030 1234567-11" in page and "030 123456711" not in page


# --- 11: „Rufnummer freigeben“ offers undo ----------------------------------------------------------


def test_release_offers_undo_that_assigns_the_same_number_again(client, db_session):
    login(client, ADMIN)
    profile = anna(db_session)
    released = client.post(f"/ums/profiles/{profile.id}/services/voicemail/release", headers=HTMX)
    assert released.status_code == 200
    assert "030 1234567-11 ist nicht mehr die Rufnummer von Anrufbeantworter" in released.text
    undo = re.search(r'<form method="post" action="(/ums/profiles/\d+/services/voicemail)".*?name="number_id" value="(\d+)"',
                     released.text, re.S)
    assert undo and re.search(r'id="undo-voicemail"[^>]*autofocus', released.text)
    again = client.post(undo.group(1), data={"number_id": undo.group(2)}, headers=HTMX)
    assert again.status_code == 200
    assert re.search(r'data-testid="number-voicemail">\s*<strong class="number">030 1234567-11', again.text)
    assert "Rückgängig" not in again.text


def test_release_without_javascript_lands_on_the_page_with_the_undo(client, db_session):
    login(client, ADMIN)
    profile = anna(db_session)
    response = client.post(f"/ums/profiles/{profile.id}/services/fax/release")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).text
    assert "Rückgängig: 030 1234567-" in page
    # the offer disappears once the number serves something again (or for a forged link)
    assert "Rückgängig" not in client.get(f"/ums/profiles/{profile.id}?released=fax&number=999999").text
    assert "Rückgängig" not in client.get(f"/ums/profiles/{profile.id}?released=nonsense&number=1").text


# --- 13: the way back, the current address, the Dev-Postfach, the favicon ---------------------------


def test_admin_on_a_profiles_voicemail_pages_has_a_way_back_to_the_profile(client, db_session):
    profile = anna(db_session)
    login(client, ADMIN)
    for path in ("", "/greetings", "/settings"):
        page = client.get(f"/profiles/{profile.id}/voicemail{path}").text
        assert f'href="/ums/profiles/{profile.id}">← Zurück zum UMS-Profil von Anna Schmidt' in page
    owner = client.application.test_client()
    login(owner, "anna.schmidt@muster.example")
    assert "Zurück zum UMS-Profil" not in owner.get(f"/profiles/{profile.id}/voicemail").text


def test_edit_page_calls_the_address_the_current_one(client, db_session):
    login(client, ADMIN)
    page = client.get(f"/ums/profiles/{anna(db_session).id}").text
    assert "Aktuelle Adresse" in page and "Bisherige Adresse" not in page


def test_dev_mailbox_shows_status_in_words_and_clickable_links(client, db_session):
    login(client, ADMIN)
    client.post(f"/ums/profiles/{anna(db_session).id}/invitation")  # anna has a password: refused
    from tests.routes.test_admin import new_profile_data

    client.post("/ums/profiles/new", data=new_profile_data(db_session, "linda.link@muster.example"))
    box = client.get("/dev/mailbox").text
    assert re.search(r'data-status="local">nur hier abgelegt, nicht versendet', box)
    assert ">local<" not in box and ">pending<" not in box
    mail_id = db_session.scalar(select(MailMessage.id).where(MailMessage.recipient == "linda.link@muster.example"))
    mail = client.get(f"/dev/mailbox/{mail_id}").text
    assert re.search(r'<a href="http://localhost/set-password/[^"]+"[^>]*>http://localhost/set-password/', mail)


def test_favicon_is_linked_and_served(client):
    page = client.get("/login").text
    href = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page).group(1)
    icon = client.get(href)
    assert icon.status_code == 200 and b"<svg" in icon.get_data()
    legacy = client.get("/favicon.ico")
    assert legacy.status_code == 301 and legacy.headers["Location"].endswith(href)


# --- 9 and 10: busy states and toasts are wired in the markup ------------------------------------------


def test_long_greeting_actions_declare_their_busy_text_and_upload_progress(client, db_session):
    login(client, "anna.schmidt@muster.example")
    page = client.get(f"/profiles/{anna(db_session).id}/voicemail/greetings").text
    card = page[page.index('id="greeting-busy"'):page.index('id="greeting-absence"')]
    assert 'data-busy-text="Wird hochgeladen und geprüft …"' in card
    assert 'data-busy-text="Aufnahme wird übertragen …"' in card
    assert 'data-busy-text="Text wird gesprochen …"' in card
    assert card.count("<progress data-upload-progress hidden") == 2  # upload and recording


def test_toast_region_is_announced_and_names_its_close_button(client):
    page = client.get("/login").text
    assert re.search(r'<div id="toasts" class="toasts" role="status" aria-live="polite" data-close-label="Meldung schließen">', page)
