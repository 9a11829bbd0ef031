"""Anrufbeantworter in the browser as anna.schmidt@muster.example: play, mark heard, delete and undo;
greetings uploaded as MP3 and a refused text file."""

from __future__ import annotations

import re
import secrets
import time
import urllib.request

import pytest
from playwright.sync_api import Page, expect
from werkzeug.test import EnvironBuilder

from tests.e2e.conftest import sign_in
from tests.services.test_audio import tone
from webapp.services import platform

ANNA = "anna.schmidt@muster.example"
ANNA_NUMBER = "+4930123456711"


@pytest.fixture(scope="module")
def anna_id(live_app) -> int:
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import UmsProfile

    with live_app.app_context():
        return db.session.scalar(select(UmsProfile.id).where(UmsProfile.email_normalized == ANNA))


def deposit_over_api(live_server: str, live_app, caller: str, audio: bytes) -> dict:
    """Deposit a message as the telephony platform does: signed multipart over HTTP."""
    import io
    import json

    environ = EnvironBuilder(method="POST", data={
        "called": ANNA_NUMBER, "caller": caller, "platform_message_id": f"e2e-{secrets.token_hex(6)}",
        "audio": (io.BytesIO(audio), "message.ogg"),
    }).get_environ()
    body = environ["wsgi.input"].read()
    ts = str(int(time.time()))
    request = urllib.request.Request(
        f"{live_server}/api/v1/voicemail/messages", data=body, method="POST",
        headers={"Content-Type": environ["CONTENT_TYPE"], platform.TIMESTAMP_HEADER: ts,
                 platform.SIGNATURE_HEADER: platform.sign(live_app.config["PLATFORM_SECRET"], ts, body)},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the local live server
        assert response.status == 201
        return json.loads(response.read())


def unique_caller() -> tuple[str, str]:
    """(E.164, the national format the page shows) of a caller no other test uses."""
    from webapp.web import format_phone

    e164 = f"+4940{secrets.randbelow(10**7) + 2 * 10**7:08d}"
    return e164, format_phone(e164)


def test_a_message_plays_is_marked_heard_deleted_and_restored(page: Page, live_server, live_app, anna_id):
    caller, shown = unique_caller()
    deposit_over_api(live_server, live_app, caller, tone("ogg-opus", 3.0))
    sign_in(page, ANNA)
    page.goto(f"/profiles/{anna_id}/voicemail")

    row = page.get_by_role("row").filter(has_text=shown)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Neu")
    badge = page.locator("#vm-nav-badge")
    new_before = int(badge.inner_text().split()[0])

    player = row.locator("audio")
    expect(player).to_have_attribute("aria-label", re.compile(f"^Nachricht von {shown}, "))
    expect(player).to_have_attribute("controls", "")
    reached_playing = player.evaluate(
        """audio => new Promise((resolve, reject) => {
             audio.addEventListener("playing", () => resolve(true), {once: true});
             audio.addEventListener("error", () => reject(audio.error && audio.error.code), {once: true});
             audio.play().catch(reject);
           })"""
    )
    assert reached_playing is True
    page.wait_for_function("audio => audio.currentTime > 0.5 && !audio.paused", arg=player.element_handle())
    # Seeking uses HTTP Range on the server.
    player.evaluate("audio => { audio.currentTime = 2.0; }")
    page.wait_for_function("audio => audio.currentTime >= 2.0", arg=player.element_handle())
    player.evaluate("audio => audio.pause()")
    expect(row).to_contain_text("Neu")  # playing alone does not mark it heard

    row.get_by_role("button", name="Als gehört markieren").click()
    expect(row).to_contain_text("Gehört")
    expect(row.get_by_role("button", name="Als neu markieren")).to_be_visible()
    # Keyboard focus survives each swap: on the row's button, then on Undo, then on the row again.
    expect(row.get_by_role("button", name="Als neu markieren")).to_be_focused()
    expect(page.locator("#vm-new-count")).to_contain_text(str(new_before - 1))
    if new_before - 1:
        expect(badge).to_contain_text(str(new_before - 1))

    row.get_by_role("button", name="Löschen").click()
    expect(page.get_by_role("row").filter(has_text=shown)).to_have_count(0)
    expect(page.get_by_role("button", name="Rückgängig")).to_be_focused()
    page.get_by_role("button", name="Rückgängig").click()
    expect(page.get_by_role("row").filter(has_text=shown)).to_have_count(1)
    expect(page.get_by_role("row").filter(has_text=shown).get_by_role("button", name="Als neu markieren")).to_be_focused()
    expect(page.get_by_role("row").filter(has_text=shown)).to_contain_text("Gehört")


def greeting_card(page: Page, name: str):
    return page.get_by_role("article", name=name)


def test_a_greeting_uploaded_as_mp3_becomes_active_and_plays(page: Page, anna_id):
    sign_in(page, ANNA)
    page.goto(f"/profiles/{anna_id}/voicemail/greetings")
    card = greeting_card(page, "Besetzt")
    card.get_by_text("Neue Ansage").click()
    card.get_by_label("Audiodatei").set_input_files(
        {"name": "besetzt.mp3", "mimeType": "audio/mpeg", "buffer": tone("mp3", 2.0)})
    card.get_by_role("button", name="Hochladen und Vorschau erstellen").click()

    preview = card.get_by_label("Vorschau von „Besetzt“ abspielen")
    expect(preview).to_be_visible()
    card.get_by_role("button", name="Aktivieren").click()
    expect(card.locator('[data-greeting-state="custom"]')).to_contain_text("besetzt.mp3")
    expect(page.get_by_role("status").filter(has_text="Die neue Ansage ist aktiv.")).to_be_visible()

    active = card.get_by_label("Aktive Ansage „Besetzt“ abspielen")
    assert active.evaluate(
        """audio => new Promise((resolve, reject) => {
             audio.addEventListener("playing", () => resolve(true), {once: true});
             audio.addEventListener("error", () => reject(audio.error && audio.error.code), {once: true});
             audio.play().catch(reject);
           })"""
    ) is True
    page.wait_for_function("audio => audio.currentTime > 0.3", arg=active.element_handle())


def test_a_text_file_as_greeting_is_refused_next_to_the_field_and_the_old_one_stays(page: Page, anna_id):
    sign_in(page, ANNA)
    page.goto(f"/profiles/{anna_id}/voicemail/greetings")
    card = greeting_card(page, "Nicht erreichbar")
    before = card.locator("[data-greeting-state]").inner_text()
    card.get_by_text("Neue Ansage").click()
    card.get_by_label("Audiodatei").set_input_files(
        {"name": "ansage.txt", "mimeType": "text/plain", "buffer": b"Bitte sprechen Sie nach dem Ton.\n" * 20})
    card.get_by_role("button", name="Hochladen und Vorschau erstellen").click()

    error = card.get_by_role("alert")
    expect(error).to_contain_text("keine verwendbare Audiodatei")
    expect(card.get_by_label("Audiodatei")).to_have_attribute("aria-invalid", "true")
    expect(card.get_by_label("Audiodatei")).to_be_focused()  # the field to correct, not the page start
    expect(card.locator("[data-greeting-state]")).to_have_text(before)
    expect(card.get_by_role("button", name="Aktivieren")).to_have_count(0)


def test_a_file_over_ten_megabytes_is_refused_before_uploading(page: Page, anna_id):
    sign_in(page, ANNA)
    page.goto(f"/profiles/{anna_id}/voicemail/greetings")
    card = greeting_card(page, "Besetzt")
    card.get_by_text("Neue Ansage").click()
    field = card.get_by_label("Audiodatei")
    field.set_input_files({"name": "gross.wav", "mimeType": "audio/wav", "buffer": b"\0" * (10 * 1024 * 1024 + 1)})
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(card.get_by_role("alert")).to_contain_text("höchstens 10 MB")
    expect(card.get_by_role("button", name="Hochladen und Vorschau erstellen")).to_be_disabled()


def test_settings_refuse_delete_after_send_without_attachment(page: Page, anna_id):
    sign_in(page, ANNA)
    page.goto(f"/profiles/{anna_id}/voicemail/settings")
    page.get_by_label("Nachricht als Audiodatei anhängen").uncheck()
    page.get_by_label("nach Versand löschen").check()
    page.get_by_role("button", name="Speichern", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("nur mit E-Mail-Benachrichtigung")
    page.get_by_label("nach Versand löschen").uncheck()
    page.get_by_role("button", name="Speichern", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Einstellungen gespeichert.")).to_be_visible()


def test_phone_width_message_list(page: Page, live_server, live_app, anna_id):
    caller, shown = unique_caller()
    deposit_over_api(live_server, live_app, caller, tone("wav", 1.0))
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, ANNA)
    page.goto(f"/profiles/{anna_id}/voicemail")
    row = page.get_by_role("row").filter(has_text=shown)
    expect(row.get_by_role("button", name="Als gehört markieren")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375 + 1


def test_a_greeting_recorded_in_the_browser_becomes_a_preview(page: Page, anna_id):
    """MediaRecorder with Chromium's fake microphone (a beeping tone); the server decodes the WebM."""
    sign_in(page, ANNA)
    page.goto(f"/profiles/{anna_id}/voicemail/greetings")
    card = greeting_card(page, "Abwesenheit")
    card.get_by_text("Neue Ansage").click()
    card.get_by_role("button", name="Aufnahme starten").click()
    expect(card.locator("[data-vm-record-status]")).to_contain_text("Aufnahme läuft")
    recorder = card.locator("form[data-vm-recorder]")
    page.wait_for_function("form => Date.now() - Number(form.dataset.recordingSince || Date.now()) > 2000",
                           arg=recorder.element_handle())
    card.get_by_role("button", name="Aufnahme beenden").click()
    use = card.get_by_role("button", name="Aufnahme verwenden und Vorschau erstellen")
    expect(use).to_be_enabled()
    use.click()
    expect(card.get_by_label("Vorschau von „Abwesenheit“ abspielen")).to_be_visible()
    expect(card.get_by_role("region", name="Vorschau")).to_contain_text("Im Browser aufgenommen")


def test_several_messages_selected_are_marked_heard_together(page: Page, live_server, live_app, anna_id):
    shown = []
    for _ in range(2):
        caller, label = unique_caller()
        deposit_over_api(live_server, live_app, caller, tone("wav", 1.0))
        shown.append(label)
    sign_in(page, ANNA)
    page.goto(f"/profiles/{anna_id}/voicemail")
    for label in shown:
        page.get_by_role("row").filter(has_text=label).get_by_role("checkbox").check()
    page.get_by_role("button", name="Ausgewählte als gehört markieren").click()
    expect(page.get_by_role("status").filter(has_text="2 Nachrichten als gehört markiert.")).to_be_visible()
    for label in shown:
        expect(page.get_by_role("row").filter(has_text=label)).to_contain_text("Gehört")


def test_a_message_deposited_while_the_list_is_open_shows_at_the_next_read(page: Page, live_server, live_app,
                                                                          anna_id):
    """The list's fragments are kept per box version (webapp/fragments.py): switching the filter
    back and forth reads them again, and a deposit in between shows in both."""
    sign_in(page, ANNA)
    page.goto(f"/profiles/{anna_id}/voicemail")

    def choose(value: str) -> None:
        """Each choice differs from the one before, so its URL is only there once its list is."""
        page.locator("#show").select_option(value)
        expect(page).to_have_url(re.compile(f"show={value}"))
        expect(page.locator("#show")).to_have_value(value)

    for value in ("new", "all", "new", "all"):  # the second round comes from the fragment cache
        choose(value)
    caller, shown = unique_caller()
    expect(page.get_by_role("row").filter(has_text=shown)).to_have_count(0)
    deposit_over_api(live_server, live_app, caller, tone("ogg-opus", 1.0))
    choose("new")
    expect(page.get_by_role("row").filter(has_text=shown)).to_have_count(1)
    choose("all")
    expect(page.get_by_role("row").filter(has_text=shown)).to_have_count(1)
    expect(page.get_by_role("row").filter(has_text=shown)).to_contain_text("Neu")
