"""Fax service: documents and their refusals, the TIFF handed to the platform, received faxes,
transmission with status, retries and report, settings, lists."""
from __future__ import annotations

import io
from datetime import UTC, timedelta

import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader, PdfWriter
from sqlalchemy import event, func, select

from webapp.models import (
    FaxResolution,
    FaxStatus,
    MailMessage,
    PlatformEvent,
    PreviewStatus,
    ReceivedFax,
    SentFax,
    UmsProfile,
    User,
    utcnow,
)
from webapp.services import fax, storage
from webapp.services.errors import NotFound, ValidationFailed
from webapp.services.fax import documents, received, sending

ANNA_FAX = "+4930123456710"


def en(message) -> str:
    from flask_babel import force_locale

    with force_locale("en"):
        return str(message)


def anna(session) -> UmsProfile:
    return session.scalar(select(UmsProfile).where(UmsProfile.email_normalized == "anna.schmidt@muster.example"))


def anna_user(session) -> User:
    return session.get(User, anna(session).user_id)


def pdf_of(pages: int, text: str = "Seite") -> bytes:
    """A real PDF with ``pages`` A4 pages of text (drawn by Pillow, saved as PDF)."""
    images = []
    for number in range(1, pages + 1):
        image = Image.new("L", (1240, 1754), 255)
        ImageDraw.Draw(image).text((100, 100), f"{text} {number}", fill=0, font_size=60)
        images.append(image)
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=150)
    return out.getvalue()


def encrypted_pdf() -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(pdf_of(1)))
    writer.encrypt("geheim")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png_of() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def app_config():
    return {"FAX_RETRY_SECONDS": 0, "FAX_SIMULATOR_SECONDS": 0}


@pytest.fixture
def profile(db_session):
    return anna(db_session)


@pytest.fixture
def user(db_session):
    return anna_user(db_session)


def draft_with(session, user, profile, *docs, destination="030 98765432", resolution=FaxResolution.FINE,
               cover=False):
    draft = sending.new_draft(session, user, profile)
    for name, data in docs:
        sending.add_document(session, user, profile, draft, name, data)
    sending.update_draft(session, user, profile, draft, sending.DraftInput(
        destination=destination, resolution=resolution, cover_enabled=cover, cover_from="Anna Schmidt",
        cover_to="Herr Meier", cover_subject="Angebot", cover_note="Bitte um Rückruf."))
    session.commit()  # the preview job runs after the commit
    session.refresh(draft)
    return draft


# --- documents ------------------------------------------------------------------------------


@pytest.mark.parametrize("data, words", [
    (b"Dies ist nur Text, umbenannt in .pdf\n", "not a PDF, JPG, PNG or TIFF"),
    (b"", "empty"),
    (b"%PDF-1.7\n garbage without objects", "damaged"),
])
def test_bad_documents_are_refused_with_the_reason(app, data, words):
    with pytest.raises(ValidationFailed) as refused:
        documents.check(data)
    assert words in en(refused.value.message)
    assert refused.value.field == "file"


def test_encrypted_pdf_is_refused(app):
    with pytest.raises(ValidationFailed) as refused:
        documents.check(encrypted_pdf())
    assert "password" in en(refused.value.message)


def test_too_many_pages_are_refused(app):
    with pytest.raises(ValidationFailed) as refused:
        documents.check(pdf_of(51))
    assert "50 pages" in en(refused.value.message)


def test_refused_upload_stores_nothing(db_session, profile, user):
    draft = sending.new_draft(db_session, user, profile)
    with pytest.raises(ValidationFailed):
        sending.add_document(db_session, user, profile, draft, "brief.pdf", b"just text")
    assert draft.documents == []
    assert not storage.exists(draft.media_prefix + "/documents") and not list(
        (storage.root() / draft.media_prefix).glob("**/*"))


@pytest.mark.parametrize("number, words", [
    ("112", "Emergency"), ("0900 1234567", "Premium-rate"), ("11833", "Short codes"),
    ("hallo", "not a phone number"), ("030 123456710", "own fax number"), ("", "Please enter"),
])
def test_destinations_that_cannot_receive_a_fax_are_refused(db_session, profile, number, words):
    with pytest.raises(ValidationFailed) as refused:
        sending.destination_of(number, fax.number_of(db_session, profile))
    assert words in en(refused.value.message)
    assert sending.destination_of("030 98765432", ANNA_FAX) == "+493098765432"


# --- sending --------------------------------------------------------------------------------


def test_preview_shows_every_page_at_fax_resolution(db_session, profile, user):
    draft = draft_with(db_session, user, profile, ("zwei.pdf", pdf_of(2)), ("bild.png", png_of()), cover=True)
    assert draft.preview_status == PreviewStatus.READY
    assert draft.pages == 4  # cover + 2 + 1
    for number in range(1, 5):
        with Image.open(io.BytesIO(storage.read(sending.preview_key(draft, number)))) as page:
            assert page.width == sending.PREVIEW_WIDTH and page.height > page.width
            assert page.mode in ("1", "L")  # black and white (grey only from scaling it down)


def test_moving_a_document_changes_the_page_order(db_session, profile, user):
    draft = draft_with(db_session, user, profile, ("a.pdf", pdf_of(1, "Erstes")), ("b.png", png_of()))
    first, second = draft.documents
    sending.move_document(db_session, user, profile, draft, second.id, -1)
    db_session.commit()
    db_session.refresh(draft)
    assert [d.filename for d in draft.documents] == ["b.png", "a.pdf"]
    assert draft.preview_version == 4 and draft.preview_status == PreviewStatus.READY


@pytest.mark.parametrize("resolution, lines, dpi", [(FaxResolution.FINE, 2292, (204, 196)),
                                                     (FaxResolution.NORMAL, 1146, (204, 98))])
def test_the_tiff_handed_to_the_platform_is_class_f(db_session, profile, user, resolution, lines, dpi):
    draft = draft_with(db_session, user, profile, ("zwei.pdf", pdf_of(2)), resolution=resolution)
    sending.send(db_session, user, profile, draft)
    db_session.commit()
    db_session.refresh(draft)
    assert draft.status == FaxStatus.SENT and draft.attempts == 1
    event_ = db_session.scalar(select(PlatformEvent).where(PlatformEvent.kind == "fax.send")
                               .order_by(PlatformEvent.id.desc()))
    assert event_.payload["destination"] == "+493098765432" and event_.payload["pages"] == 2
    with Image.open(io.BytesIO(storage.read(draft.tiff_key))) as tiff:
        assert tiff.n_frames == 2
        for index in range(tiff.n_frames):
            tiff.seek(index)
            assert tiff.mode == "1"
            assert tiff.info["compression"] in ("group3", "group4")
            assert tiff.size == (1728, lines)
            assert tuple(round(v) for v in tiff.info["dpi"]) == dpi
            # 1728 dots at 204 dpi and the lines at their resolution are A4 (210/215 × 297 mm)
            assert abs(tiff.size[1] / dpi[1] * 25.4 - 297) < 1


def test_group3_when_configured(app, db_session, profile, user):
    app.config["FAX_COMPRESSION"] = "group3"
    draft = draft_with(db_session, user, profile, ("eins.pdf", pdf_of(1)))
    sending.send(db_session, user, profile, draft)
    db_session.commit()
    db_session.refresh(draft)
    with Image.open(io.BytesIO(storage.read(draft.tiff_key))) as tiff:
        assert tiff.info["compression"] == "group3"


def test_busy_destination_is_retried_then_busy(db_session, profile, user):
    draft = draft_with(db_session, user, profile, ("eins.pdf", pdf_of(1)), destination="030 1234666")
    sending.send(db_session, user, profile, draft)
    db_session.commit()
    db_session.refresh(draft)
    assert draft.status == FaxStatus.BUSY and draft.attempts == 3
    sends = db_session.scalars(select(PlatformEvent).where(PlatformEvent.kind == "fax.send")).all()
    assert {e.payload["attempt"] for e in sends if e.payload["fax_id"] == draft.id} == {1, 2, 3}
    failed = db_session.scalar(select(MailMessage).order_by(MailMessage.id.desc()))
    assert "nicht gesendet" in failed.subject or "not sent" in failed.subject and failed.attachment_type == "application/pdf"
    assert len(PdfReader(io.BytesIO(storage.read(draft.report_key))).pages) == 1


def test_no_answer_with_one_attempt_configured(app, db_session, profile, user):
    app.config["FAX_MAX_ATTEMPTS"] = 1
    draft = draft_with(db_session, user, profile, ("eins.pdf", pdf_of(1)), destination="030 1234777")
    sending.send(db_session, user, profile, draft)
    db_session.commit()
    db_session.refresh(draft)
    assert draft.status == FaxStatus.NO_ANSWER and draft.attempts == 1


def test_status_reports_are_idempotent_and_safe_out_of_order(app, db_session, profile, user):
    app.config["FAX_SIMULATOR_SECONDS"] = 3600  # the simulator answers much later: we report ourselves
    draft = draft_with(db_session, user, profile, ("eins.pdf", pdf_of(1)))
    sending.send(db_session, user, profile, draft)
    db_session.commit()
    db_session.refresh(draft)
    assert draft.status == FaxStatus.SENDING
    first = draft.platform_fax_id
    _fax, changed = sending.apply_status(db_session, first, "busy")
    assert changed and draft.status == FaxStatus.QUEUED
    db_session.commit()  # the retry runs at once (interval 0)
    db_session.refresh(draft)
    assert draft.status == FaxStatus.SENDING and draft.attempts == 2
    # a late report of the first attempt changes nothing
    assert sending.apply_status(db_session, first, "failed") == (draft, False)
    assert sending.apply_status(db_session, draft.platform_fax_id, "sent")[1]
    assert draft.status == FaxStatus.SENT and draft.report_key
    # repeated and out-of-order reports after the final state change nothing
    assert not sending.apply_status(db_session, draft.platform_fax_id, "sent")[1]
    assert not sending.apply_status(db_session, draft.platform_fax_id, "sending")[1]
    assert draft.status == FaxStatus.SENT
    with pytest.raises(NotFound):
        sending.apply_status(db_session, "fax-999999-1", "sent")
    with pytest.raises(ValidationFailed):
        sending.apply_status(db_session, draft.platform_fax_id, "exploded")


# --- received -------------------------------------------------------------------------------


def test_received_tiff_becomes_a_pdf_with_the_same_page_count(db_session, profile):
    tiff = documents.tiff(documents.text_pages("Zeile\n" * 100), "fine")  # 3 pages
    with Image.open(io.BytesIO(tiff)) as image:
        assert image.n_frames == 3
    item, created = received.deposit(db_session, received.DepositInput(
        called=ANNA_FAX, caller="040 1234567", station_id="+49 40 1234567", received_at=None,
        platform_fax_id="rx-pages-1", document=tiff))
    assert created and item.pages == 3
    assert not storage.exists(item.pdf_key)  # staged: in place only once the deposit is committed
    db_session.commit()
    assert len(PdfReader(io.BytesIO(storage.read(item.pdf_key))).pages) == 3
    db_session.refresh(item)
    assert item.preview_status == PreviewStatus.READY
    for number in (1, 2, 3):
        assert Image.open(io.BytesIO(storage.read(received.page_key(item, number)))).width == received.PAGE_WIDTH
    again, created = received.deposit(db_session, received.DepositInput(
        called=ANNA_FAX, caller="040 1234567", station_id=None, received_at=None,
        platform_fax_id="rx-pages-1", document=tiff))
    assert not created and again.id == item.id


def test_deposit_refusals(db_session, profile):
    base = dict(called=ANNA_FAX, caller=None, station_id=None, received_at=None, platform_fax_id="rx-bad")
    with pytest.raises(ValidationFailed) as refused:
        received.deposit(db_session, received.DepositInput(**base, document=b"nope"))
    assert refused.value.field == "document"
    with pytest.raises(ValidationFailed):
        received.deposit(db_session, received.DepositInput(**{**base, "received_at": "1999-01-01T00:00:00Z"},
                                                           document=pdf_of(1)))
    with pytest.raises(NotFound):
        received.deposit(db_session, received.DepositInput(**{**base, "called": "+4930999999"},
                                                           document=pdf_of(1)))
    assert db_session.scalar(select(func.count()).select_from(ReceivedFax).where(
        ReceivedFax.platform_fax_id == "rx-bad")) == 0


def test_list_search_mark_delete_and_undo(db_session, profile, user):
    now = utcnow()
    a = received.deposit_text(db_session, ANNA_FAX, "Eins", caller="040 111222", received_at=now - timedelta(days=3))
    b = received.deposit_text(db_session, ANNA_FAX, "Zwei", caller="089 333444", station_id="MUENCHEN")
    page = received.list_received(db_session, profile, received.ReceivedQuery(sender="089"))
    assert [f.id for f in page.items] == [b.id]
    page = received.list_received(db_session, profile, received.ReceivedQuery(sender="MUENCHEN"))
    assert [f.id for f in page.items] == [b.id]
    day = (now - timedelta(days=3)).astimezone(UTC).date()
    page = received.list_received(db_session, profile, received.ReceivedQuery(day_from=day, day_until=day))
    assert a.id in [f.id for f in page.items] and b.id not in [f.id for f in page.items]
    before = received.new_count(db_session, profile.id)
    received.BOX.mark(db_session, profile, [a.id], read=True)
    assert received.new_count(db_session, profile.id) == before - 1
    received.BOX.delete(db_session, user, profile, [a.id, b.id])
    assert received.BOX.restore(db_session, user, profile, [a.id]) == 1
    with pytest.raises(NotFound):
        received.received_of(db_session, profile, b.id)


def test_list_queries_do_not_grow_with_rows(db_session, engine, profile, user):
    def count_queries(fn) -> int:
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            fn()
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(statements)

    for index in range(3):
        received.deposit_text(db_session, ANNA_FAX, f"Fax {index}", caller="040 1234567")
    few = count_queries(lambda: received.list_received(db_session, profile, received.ReceivedQuery()))
    for index in range(25):
        received.deposit_text(db_session, ANNA_FAX, f"Fax {index}", caller="040 1234567")
    many = count_queries(lambda: received.list_received(db_session, profile, received.ReceivedQuery()))
    assert few == many == 1  # the page with both counts (total and new)
    filtered = received.ReceivedQuery(sender="040")
    assert count_queries(lambda: received.list_received(db_session, profile, filtered)) == 1
    nothing = received.ReceivedQuery(sender="0891")  # an empty page: the counts on their own
    assert count_queries(lambda: received.list_received(db_session, profile, nothing)) == 2


def test_housekeeping_recovers_faxes_left_behind(app, db_session, profile, user):
    from sqlalchemy import update

    app.config["FAX_SIMULATOR_SECONDS"] = 3600
    converting = draft_with(db_session, user, profile, ("eins.pdf", pdf_of(1)))
    sending.send(db_session, user, profile, converting)
    db_session.commit()
    silent = draft_with(db_session, user, profile, ("eins.pdf", pdf_of(1)))
    sending.send(db_session, user, profile, silent)
    db_session.commit()
    long_ago = utcnow() - timedelta(hours=2)
    db_session.execute(update(SentFax).where(SentFax.id == converting.id)
                       .values(status=FaxStatus.CONVERTING, status_changed_at=long_ago))
    db_session.execute(update(SentFax).where(SentFax.id == silent.id).values(status_changed_at=long_ago))
    db_session.commit()
    from webapp.services.fax_jobs import fax_housekeeping

    assert fax_housekeeping.call_local()["retried"] >= 1
    db_session.expire_all()
    assert db_session.get(SentFax, converting.id).status == FaxStatus.SENDING  # tried again
    failed = db_session.get(SentFax, silent.id)
    assert failed.status == FaxStatus.FAILED and failed.reason and failed.report_key


def test_media_sweep_keeps_every_fax_file(db_session, profile, user):
    draft = draft_with(db_session, user, profile, ("zwei.pdf", pdf_of(2)), cover=True)
    item = received.deposit_text(db_session, ANNA_FAX, "Zeile\n" * 50)
    db_session.commit()
    db_session.refresh(item)
    keys = [draft.documents[0].key, sending.body_key(draft), received.thumb_key(item), item.pdf_key] + \
        [sending.preview_key(draft, n) for n in range(1, draft.pages + 1)] + \
        [received.page_key(item, n) for n in range(1, item.pages + 1)]
    assert all(storage.exists(k) for k in keys)
    storage.sweep(db_session, grace=timedelta(0), now=utcnow() + timedelta(hours=1))
    assert [k for k in keys if not storage.exists(k)] == []


# --- limits of the rendering process ----------------------------------------------------------


def test_rendering_stops_at_the_page_limit(app):
    with pytest.raises(ValidationFailed) as refused:
        documents.render(pdf_of(3), "pdf", "fine", max_pages=2)
    assert "50 pages" in en(refused.value.message) or refused.value.code == "too_many_pages"


def test_rendering_that_takes_too_long_is_stopped(app):
    app.config["FAX_RENDER_SECONDS"] = 0  # the child gets no time at all
    with pytest.raises(ValidationFailed) as refused:
        documents.render(pdf_of(1), "pdf", "fine")
    assert "too long" in en(refused.value.message)


def test_an_image_bomb_is_refused_without_decoding_it(app):
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000), 1).save(out, "PNG")  # 400 megapixels, a few kB
    assert len(out.getvalue()) < 200_000
    with pytest.raises(ValidationFailed) as refused:
        documents.check(out.getvalue())
    assert "too large" in en(refused.value.message)


def test_broken_pdfs_are_refused_in_the_request_with_their_reason(db_session, profile, user):
    good = pdf_of(1)
    draft = sending.new_draft(db_session, user, profile)
    for data, words in ((good.replace(b"/Type /Page", b"/Type /Xyz", 1), "no pages"),
                        (good[: len(good) // 2], "damaged")):
        with pytest.raises(ValidationFailed) as refused:
            sending.add_document(db_session, user, profile, draft, "kaputt.pdf", data)
        assert words in en(refused.value.message) and refused.value.field == "file"
    assert draft.documents == []
