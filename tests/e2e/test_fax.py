"""Fax in the browser as anna.schmidt@muster.example: upload a two-page PDF, see both preview
pages, send, and watch the status reach „Gesendet“ without reloading; a destination ending in
666 shows the retries, then „Besetzt“; a text file renamed .pdf is refused next to the field.

The live server runs jobs at once (Huey immediate); jobs scheduled for later (the simulator's
answer after a second, the retry after three seconds) are run by a small scheduler thread here, as
the queue consumer does in production."""

from __future__ import annotations

import re
import threading

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in
from tests.services.test_fax import pdf_of

ANNA = "anna.schmidt@muster.example"


@pytest.fixture(scope="module")
def anna_id(live_app) -> int:
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import UmsProfile

    with live_app.app_context():
        return db.session.scalar(select(UmsProfile.id).where(UmsProfile.email_normalized == ANNA))


@pytest.fixture(scope="module")
def scheduler(live_app):
    """Runs due scheduled jobs of the in-memory queue every 0.2 s while this module's tests run."""
    from webapp.jobs import huey

    live_app.config.update(FAX_SIMULATOR_SECONDS=1, FAX_RETRY_SECONDS=3)
    stop = threading.Event()

    def run() -> None:
        with live_app.app_context():
            while not stop.wait(0.2):
                for task in huey.read_schedule():
                    huey.execute(task)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(5)
    live_app.config.update(FAX_SIMULATOR_SECONDS=3, FAX_RETRY_SECONDS=120)


def compose(page: Page, anna_id: int) -> None:
    page.goto(f"/profiles/{anna_id}/fax/send")
    expect(page.get_by_role("heading", name="Dokumente")).to_be_visible()


def upload(page: Page, name: str, data: bytes, mime: str = "application/pdf") -> None:
    page.get_by_label(re.compile("^Dokument \\(")).set_input_files({"name": name, "mimeType": mime, "buffer": data})
    page.get_by_role("button", name="Dokument hinzufügen").click()


def send_to(page: Page, number: str) -> None:
    page.get_by_label("Faxnummer des Empfängers").fill(number)
    page.get_by_role("button", name="Senden", exact=True).click()


def test_a_text_file_renamed_pdf_is_refused_next_to_the_field(page: Page, anna_id):
    sign_in(page, ANNA)
    compose(page, anna_id)
    upload(page, "rechnung.pdf", b"Das ist nur Text.\n")
    field = page.get_by_label(re.compile("^Dokument \\("))
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#fax-file-errors")).to_have_text("Dies ist kein PDF-, JPG-, PNG- oder TIFF-Dokument.")
    expect(page.locator(".fax-documents")).to_have_count(0)


def test_two_page_pdf_preview_send_and_live_status(page: Page, anna_id, scheduler):
    sign_in(page, ANNA)
    compose(page, anna_id)
    upload(page, "angebot-e2e.pdf", pdf_of(2, "Angebot"))
    expect(page.locator("#fax-docs")).to_contain_text("angebot-e2e.pdf")
    expect(page.get_by_role("img", name="Vorschau der Seite 1 von 2")).to_be_visible()
    expect(page.get_by_role("img", name="Vorschau der Seite 2 von 2")).to_be_visible()
    for image in page.locator("#fax-preview img").all():  # really loaded, not a broken image
        assert image.evaluate("img => img.complete && img.naturalWidth > 800")
    send_to(page, "040 7654321")
    expect(page).to_have_url(re.compile(r"/fax/sent"))
    row = page.locator("tr", has_text="040 7654321").first
    expect(row.get_by_test_id("fax-status")).to_have_text("Wird gesendet")
    url = page.url
    expect(row.get_by_test_id("fax-status")).to_have_text("Gesendet", timeout=15_000)
    assert page.url == url  # the list updated itself; nobody reloaded
    expect(row.get_by_role("button", name="Sendebericht")).to_be_visible()


def test_busy_destination_shows_retries_then_busy(page: Page, anna_id, scheduler):
    sign_in(page, ANNA)
    compose(page, anna_id)
    upload(page, "rueckfrage.pdf", pdf_of(1, "Rückfrage"))
    expect(page.get_by_role("img", name="Vorschau der Seite 1 von 1")).to_be_visible()
    send_to(page, "030 5550666")
    row = page.locator("tr", has_text="030 5550666").first
    expect(row).to_contain_text(re.compile(r"Besetzt (\(simuliert\) )?– nächster Versuch"), timeout=15_000)
    expect(row).to_contain_text("Versuch 2 von 3", timeout=15_000)
    expect(row.get_by_test_id("fax-status")).to_have_text("Besetzt", timeout=20_000)
    expect(row).to_contain_text("Versuch 3 von 3")
