"""Konferenz in the browser as anna.schmidt@muster.example: a meeting with two invitees whose
invitation, update and cancellation reach a real SMTP server; simulated callers joining the room,
muted and removed by the moderator, and the list emptying with its polling stopped."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in
from tests.mailserver import start_server

ANNA = "anna.schmidt@muster.example"
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(scope="module")
def anna_id(live_app) -> int:
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import UmsProfile

    with live_app.app_context():
        return db.session.scalar(select(UmsProfile.id).where(UmsProfile.email_normalized == ANNA))


@pytest.fixture
def inbox(live_app):
    controller, collector = start_server()
    live_app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port)
    yield collector
    live_app.config.update(SMTP_HOST=None)
    controller.stop()


def calendars(inbox, count: int) -> list[tuple[str, str, icalendar.Event, str]]:
    """(recipient, METHOD, VEVENT, whole .ics) of the last ``count`` mails."""
    found = []
    for envelope, message in list(zip(inbox.envelopes, inbox.messages(), strict=True))[-count:]:
        (part,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
        cal = icalendar.Calendar.from_ical(part.get_content())
        found.append((envelope.rcpt_tos[0], str(cal["METHOD"]), cal.walk("VEVENT")[0], cal.to_ical().decode()))
    return found


def test_schedule_change_and_cancel_a_meeting_with_two_invitees(page: Page, anna_id, inbox):
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, ANNA)
    page.goto(f"/profiles/{anna_id}/conference")
    # one click each for new PINs (the demo's were encrypted under the test data's key, not this server's)
    for label in ("Neue Moderator-PIN erzeugen", "Neue Teilnehmer-PIN erzeugen"):
        page.get_by_role("button", name=label).click()
        expect(page.locator(".toast").last).to_contain_text("Die alte gilt nicht mehr")
    moderator_pin = page.get_by_test_id("pin-moderator").inner_text()
    participant_pin = page.get_by_test_id("pin-participant").inner_text()

    page.goto(f"/profiles/{anna_id}/conference/meetings")
    title = f"Abstimmung {secrets.token_hex(3)}"
    day = (datetime.now(BERLIN) + timedelta(days=40 + secrets.randbelow(300))).date()
    page.get_by_label("Titel").fill(title)
    page.get_by_label("Beginn (Berliner Zeit)").fill(f"{day.isoformat()}T10:30")
    page.get_by_label("Dauer (Minuten)").fill("45")
    page.get_by_label("Eingeladene (E-Mail-Adressen)").fill("jan.becker@example.com\nlena.fischer@example.com")
    page.get_by_role("button", name="Planen und einladen").click()
    meeting = page.get_by_test_id("upcoming-meeting").filter(has_text=title)
    expect(meeting).to_be_visible()
    expect(page.locator(".toast")).to_contain_text("2 Einladungen verschickt")

    invited = calendars(inbox, 2)
    assert sorted(r[0] for r in invited) == ["jan.becker@example.com", "lena.fischer@example.com"]
    for _to, method, event, whole in invited:
        assert method == "REQUEST" and event["SEQUENCE"] == 0
        assert event.decoded("DTSTART") == datetime(day.year, day.month, day.day, 10, 30, tzinfo=BERLIN)
        assert "030 1234567-12" in str(event["DESCRIPTION"]) and participant_pin in str(event["DESCRIPTION"])
        assert moderator_pin not in whole
    uid = str(invited[0][2]["UID"])

    meeting.get_by_role("link", name="Ändern").click()
    expect(page.get_by_role("heading", name="Termin ändern")).to_be_visible()  # the edit form is in
    expect(page.get_by_label("Titel")).to_have_value(title)
    page.get_by_label("Beginn (Berliner Zeit)").fill(f"{day.isoformat()}T14:00")
    page.get_by_role("button", name="Speichern und Aktualisierung senden").click()
    expect(page.locator(".toast").last).to_contain_text("2 Aktualisierungen verschickt")
    for _to, method, event, _whole in calendars(inbox, 2):
        assert method == "REQUEST" and event["SEQUENCE"] == 1 and str(event["UID"]) == uid
        assert event.decoded("DTSTART") == datetime(day.year, day.month, day.day, 14, 0, tzinfo=BERLIN)

    page.get_by_test_id("upcoming-meeting").filter(has_text=title).get_by_role("button", name="Termin absagen").click()
    expect(page.get_by_test_id("past-meeting").filter(has_text=title)).to_contain_text("abgesagt")
    expect(page.get_by_test_id("upcoming-meeting").filter(has_text=title)).to_have_count(0)
    assert len(inbox.envelopes) == 6
    for _to, method, event, _whole in calendars(inbox, 2):
        assert method == "CANCEL" and event["SEQUENCE"] == 2 and str(event["UID"]) == uid


def test_simulated_callers_join_are_muted_removed_and_leave(page: Page, anna_id):
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, ANNA)
    simulator = page.context.new_page()
    simulator.on("dialog", lambda dialog: dialog.accept())
    simulator.goto(f"/profiles/{anna_id}/conference/simulator")
    if simulator.get_by_role("button", name="Alle verlassen den Raum").count():
        simulator.get_by_role("button", name="Alle verlassen den Raum").click()
    expect(simulator.get_by_text("Niemand ist im Raum.")).to_be_visible()

    simulator.get_by_label("Name").fill("Jonas Weber")
    simulator.get_by_role("button", name="Jemanden hinzukommen lassen").click()
    expect(simulator.get_by_test_id("sim-participant")).to_have_count(1)

    page.goto(f"/profiles/{anna_id}/conference")
    live = page.locator("#conf-live")
    rows = page.get_by_test_id("participant")
    expect(rows).to_have_count(1)
    expect(live).to_have_attribute("hx-trigger", re.compile(r"every \d+s"))

    simulator.get_by_label("Name").fill("Lena Fischer")
    simulator.get_by_role("button", name="Jemanden hinzukommen lassen").click()
    expect(rows).to_have_count(2)  # without reloading the room page
    page.get_by_role("button", name="Stummschalten: Lena Fischer").focus()
    simulator.get_by_role("button", name="Sprechen: Lena Fischer").click()
    expect(rows.filter(has_text="Lena Fischer")).to_contain_text("spricht")
    # the poll swapped the list; a keyboard user's focus stays on the same button
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Stummschalten: Lena Fischer"

    page.get_by_role("button", name="Stummschalten: Lena Fischer").click()
    expect(rows.filter(has_text="Lena Fischer")).to_contain_text("stummgeschaltet")
    expect(page.locator(".toast").last).to_contain_text("Lena Fischer ist stummgeschaltet")
    page.get_by_role("button", name="Entfernen: Jonas Weber").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Lena Fischer")

    simulator.reload()
    simulator.get_by_role("button", name="Alle verlassen den Raum").click()
    expect(page.get_by_test_id("live-summary")).to_contain_text("Niemand ist im Raum.")
    expect(live).to_have_attribute("data-poll", "0")
    expect(live).not_to_have_attribute("hx-trigger", re.compile(".+"))
    simulator.close()


def test_meeting_times_show_in_the_viewers_time_zone(browser, base_url, anna_id):
    context = browser.new_context(base_url=base_url, locale="de-DE", timezone_id="America/New_York")
    page = context.new_page()
    try:
        sign_in(page, ANNA)
        page.goto(f"/profiles/{anna_id}/conference/meetings")
        when = page.get_by_test_id("upcoming-meeting").filter(has_text="Wochenbesprechung Vertrieb").locator("time")
        expect(when).to_have_attribute("title", re.compile(r"\(Berlin\)$"))
        moment = datetime.fromisoformat(when.get_attribute("datetime"))
        expect(when).to_contain_text(moment.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M"))
        assert moment.astimezone(BERLIN).strftime("%H:%M") in when.get_attribute("title")
    finally:
        context.close()
