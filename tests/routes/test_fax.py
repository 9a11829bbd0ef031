"""Fax pages: received list and viewer, sending with preview and status, settings, signed API."""
from __future__ import annotations

import io

import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import event, func, insert, select

from tests.conftest import HTMX, login
from tests.routes.test_api_voicemail import signed_post
from tests.services.test_fax import ANNA_FAX, anna, pdf_of, png_of
from webapp.models import FaxStatus, ReceivedFax, SentFax, utcnow
from webapp.services.fax import documents, received

ANNA = "anna.schmidt@muster.example"


@pytest.fixture
def app_config():
    return {"FAX_RETRY_SECONDS": 0, "FAX_SIMULATOR_SECONDS": 0}


@pytest.fixture
def profile(db_session):
    return anna(db_session)


@pytest.fixture
def as_anna(client):
    return login(client, ANNA)


def base(profile) -> str:
    return f"/profiles/{profile.id}/fax"


# --- received --------------------------------------------------------------------------------


def test_received_list_shows_the_demo_faxes_with_thumbnails(as_anna, profile):
    page = as_anna.get(base(profile))
    assert page.status_code == 200
    assert "<h1>Fax</h1>" in page.text and "040 123456789" in page.text and "PRAXIS DR WOLF" in page.text
    assert 'class="fax-thumb"' in page.text and "1 neues Fax" in page.text
    assert "Ihre Faxnummer: 030 1234567-10" in page.text
    partial = as_anna.get(base(profile), headers=HTMX)
    assert partial.status_code == 200 and "<html" not in partial.text and 'id="fax-received"' in partial.text
    first = next(f for f in received.list_received(as_anna.application.extensions["db"].factory(),
                                                   profile, received.ReceivedQuery()).items)
    thumb = as_anna.get(f"{base(profile)}/received/{first.id}/thumb.png")
    assert thumb.status_code == 200 and thumb.mimetype == "image/png"
    assert Image.open(io.BytesIO(thumb.data)).width == received.THUMB_WIDTH


def test_viewer_shows_every_page_and_marks_read(as_anna, db_session, profile):
    fax = received.deposit_text(db_session, ANNA_FAX, "Zeile\n" * 50, caller="040 555666")  # 2 pages
    db_session.commit()
    page = as_anna.get(f"{base(profile)}/received/{fax.id}")
    assert page.status_code == 200
    assert "Seite 1 von 2" in page.text and "Seite 2 von 2" in page.text
    for number in (1, 2):
        image = as_anna.get(f"{base(profile)}/received/{fax.id}/page-{number}.png")
        assert image.status_code == 200 and Image.open(io.BytesIO(image.data)).width == received.PAGE_WIDTH
    assert as_anna.get(f"{base(profile)}/received/{fax.id}/page-3.png").status_code == 404
    polled = as_anna.get(f"{base(profile)}/received/{fax.id}/pages", headers=HTMX)
    assert polled.status_code == 286  # rendered: the page stops polling
    db_session.refresh(fax)
    assert fax.read_at is not None
    pdf = as_anna.get(f"{base(profile)}/received/{fax.id}/fax.pdf")
    assert pdf.mimetype == "application/pdf" and "attachment" in pdf.headers["Content-Disposition"]
    assert len(PdfReader(io.BytesIO(pdf.data)).pages) == 2


def test_someone_elses_fax_is_not_found(client, db_session, profile):
    fax = received.deposit_text(db_session, ANNA_FAX, "Privat")
    db_session.commit()
    login(client, "max.mueller@muster.example", "demo-user-2026")
    assert client.get(f"{base(profile)}/received/{fax.id}").status_code in (403, 404)
    assert client.get(f"{base(profile)}/received/{fax.id}/fax.pdf").status_code in (403, 404)


def test_unknown_and_huge_ids_are_404(as_anna, profile):
    assert as_anna.get(f"{base(profile)}/received/999999").status_code == 404
    assert as_anna.get(f"{base(profile)}/received/99999999999999").status_code == 404


def test_bulk_delete_then_undo(as_anna, db_session, profile):
    a = received.deposit_text(db_session, ANNA_FAX, "A", caller="040 111")
    b = received.deposit_text(db_session, ANNA_FAX, "B", caller="040 222")
    db_session.commit()
    response = as_anna.post(f"{base(profile)}/received/bulk", data={"action": "delete", "ids": [a.id, b.id]},
                            headers=HTMX)
    assert response.status_code == 200 and "2 Faxe gelöscht." in response.text
    assert f'id="fax-in-{a.id}"' not in response.text
    undone = as_anna.post(f"{base(profile)}/received/restore", data={"ids": f"{a.id},{b.id}"}, headers=HTMX)
    assert f'id="fax-in-{a.id}"' in undone.text and f'id="fax-in-{b.id}"' in undone.text
    empty = as_anna.post(f"{base(profile)}/received/bulk", data={"action": "delete"}, headers=HTMX)
    assert empty.status_code == 422 and "Wählen Sie mindestens ein Fax aus." in empty.text or empty.status_code == 422


def test_search_by_sender_and_period(as_anna, db_session, profile):
    received.deposit_text(db_session, ANNA_FAX, "Hamburg", caller="040 7778889")
    db_session.commit()
    found = as_anna.get(f"{base(profile)}?sender=0407778889", headers=HTMX)
    assert "040 7778889" in found.text and "PRAXIS DR WOLF" not in found.text
    wrong = as_anna.get(f"{base(profile)}?day_from=2026-05-02&day_until=2026-05-01", headers=HTMX)
    assert wrong.status_code == 200 and 'id="day_until-errors"' in wrong.text


def count_statements(client, engine, url: str) -> int:
    seen = []

    def _count(*_args):
        seen.append(1)

    event.listen(engine, "before_cursor_execute", _count)
    try:
        assert client.get(url, headers=HTMX).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", _count)
    return len(seen)


def test_list_queries_do_not_grow_with_the_faxes(as_anna, db_session, engine, profile):
    client = as_anna
    for url in (base(profile), f"{base(profile)}/sent"):
        client.get(url, headers=HTMX)
        # rendered, not from the fragment cache: a query of its own (after the insert the box has changed)
        few = count_statements(client, engine, url + "?page=1")
        now = utcnow()
        db_session.execute(insert(ReceivedFax), [
            {"profile_id": profile.id, "platform_fax_id": f"q-{url[-4:]}-{i}", "called_e164": ANNA_FAX,
             "caller_e164": f"+4940{2000000 + i}", "received_at": now, "pages": 1, "size_bytes": 1,
             "media_prefix": f"perf/{i}", "pdf_key": f"perf/{i}/fax.pdf", "preview_status": "ready",
             "created_at": now} for i in range(40)])
        db_session.execute(insert(SentFax), [
            {"profile_id": profile.id, "destination_e164": "+49401234567", "resolution": "fine", "status": "sent",
             "attempts": 1, "max_attempts": 3, "pages": 1, "media_prefix": f"perf/s{i}", "preview_status": "ready",
             "preview_version": 1, "created_at": now, "cover_enabled": False} for i in range(40)])
        db_session.commit()
        assert count_statements(client, engine, url) == few


# --- sending ---------------------------------------------------------------------------------


def upload(client, profile, data: bytes, name: str):
    return client.post(f"{base(profile)}/send/documents", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data", headers=HTMX)


def test_a_text_file_renamed_pdf_is_refused_next_to_the_field(as_anna, db_session, profile):
    before = db_session.scalar(select(func.count()).select_from(SentFax))
    response = upload(as_anna, profile, b"Nur Text, keine PDF-Datei.\n", "brief.pdf")
    assert response.status_code == 422
    assert 'id="fax-file-errors"' in response.text and "Dies ist kein PDF-, JPG-, PNG- oder TIFF-Dokument." in response.text
    assert 'aria-invalid="true"' in response.text
    assert db_session.scalar(select(func.count()).select_from(SentFax)) == before  # no draft, no file


def test_upload_preview_and_send(as_anna, db_session, profile):
    response = upload(as_anna, profile, pdf_of(2), "angebot.pdf")
    assert response.status_code == 200 and "angebot.pdf" in response.text
    draft = db_session.scalar(select(SentFax).where(SentFax.profile_id == profile.id,
                                                    SentFax.status == FaxStatus.DRAFT))
    upload(as_anna, profile, png_of(), "skizze.png")
    db_session.refresh(draft)
    preview = as_anna.get(f"{base(profile)}/send/{draft.id}/preview", headers=HTMX)
    assert preview.status_code == 286 and "Seite 3 von 3" in preview.text
    image = as_anna.get(f"{base(profile)}/send/{draft.id}/preview/v{draft.preview_version}-1.png")
    assert image.status_code == 200 and image.mimetype == "image/png"
    moved = as_anna.post(f"{base(profile)}/send/{draft.id}/documents/{draft.documents[1].id}/up", headers=HTMX)
    assert moved.text.index("skizze.png") < moved.text.index("angebot.pdf")

    refused = as_anna.post(f"{base(profile)}/send", data={"destination": "0900 1234567", "resolution": "fine",
                                                          "action": "send"}, headers=HTMX)
    assert refused.status_code == 422 and 'id="destination-errors"' in refused.text
    sent = as_anna.post(f"{base(profile)}/send", data={"destination": "040 1234567", "resolution": "fine",
                                                       "action": "send"}, headers=HTMX)
    assert sent.status_code == 204 and sent.headers["HX-Redirect"].startswith(f"{base(profile)}/sent")
    db_session.refresh(draft)
    assert draft.status == FaxStatus.SENT and draft.pages == 3
    listing = as_anna.get(f"{base(profile)}/sent?poll=1", headers=HTMX)
    assert listing.status_code == 286 and "Gesendet" in listing.text  # nothing in flight: polling stops
    shown = as_anna.get(f"{base(profile)}/sent/{draft.id}")
    assert shown.status_code == 200 and "Seite 3 von 3" in shown.text and "Gesendet" in shown.text
    assert as_anna.get(f"{base(profile)}/send/{draft.id}/preview/v{draft.preview_version}-3.png").status_code == 200
    report = as_anna.get(f"{base(profile)}/sent/{draft.id}/report.pdf")
    assert report.mimetype == "application/pdf" and len(PdfReader(io.BytesIO(report.data)).pages) == 1


def test_sent_list_polls_while_a_fax_is_in_flight(app, as_anna, db_session, profile):
    app.config["FAX_SIMULATOR_SECONDS"] = 3600  # the simulator's answer is far away
    assert upload(as_anna, profile, pdf_of(1), "eins.pdf").status_code == 200
    sent = as_anna.post(f"{base(profile)}/send", data={"destination": "040 1234567", "resolution": "fine",
                                                       "action": "send"}, headers=HTMX)
    assert sent.status_code == 204
    listing = as_anna.get(f"{base(profile)}/sent", headers=HTMX)
    assert listing.status_code == 200 and 'hx-trigger="every 2s"' in listing.text
    assert "Wird gesendet" in listing.text


def test_settings_save_and_refuse(as_anna, db_session, profile):
    url = f"{base(profile)}/settings"
    assert as_anna.get(url).status_code == 200
    bad = as_anna.post(url, data={"station_id": "ABC", "header_line": "x" * 51}, headers=HTMX)
    assert bad.status_code == 422 and 'id="station_id-errors"' in bad.text and 'id="header_line-errors"' in bad.text
    bad_mail = as_anna.post(url, data={"email_enabled": "y", "email_addresses": "a@b.example, kaputt"}, headers=HTMX)
    assert bad_mail.status_code == 422 and "kaputt" in bad_mail.text
    ok = as_anna.post(url, data={"email_enabled": "y", "email_addresses": "a@muster.example; b@muster.example",
                                 "header_line": "Muster GmbH", "station_id": "+49 30 1234"}, headers=HTMX)
    assert ok.status_code == 200
    from webapp.services import fax

    settings = fax.settings_of(db_session, profile)
    assert settings.email_addresses == "a@muster.example,b@muster.example" and settings.station_id == "+49 30 1234"


# --- API -------------------------------------------------------------------------------------


def post_received(client, document: bytes, platform_fax_id: str, called: str = ANNA_FAX, **extra):
    fields = {"called": called, "caller": "+4940123456789", "station_id": "+49 40 123",
              "received_at": "2026-11-30T09:15:00+01:00", "platform_fax_id": platform_fax_id, **extra}
    return signed_post(client, "/api/v1/fax/received", fields=fields, files={"document": (document, "fax.tif")})


def test_api_deposit_of_a_received_tiff(client, db_session):
    tiff = documents.tiff(documents.text_pages("Zeile\n" * 90, "normal"), "normal")
    first = post_received(client, tiff, "api-rx-1")
    assert first.status_code == 201 and first.json["pages"] == 3 and first.json["created"] is True
    again = post_received(client, tiff, "api-rx-1")
    assert again.status_code == 200 and again.json["created"] is False and again.json["id"] == first.json["id"]
    bad = post_received(client, b"not a fax", "api-rx-2")
    assert bad.status_code == 422 and bad.json["field"] == "document"
    unknown = post_received(client, tiff, "api-rx-3", called="+4930999999")
    assert unknown.status_code == 404
    unsigned = client.post("/api/v1/fax/received", data={"platform_fax_id": "x"})
    assert unsigned.status_code == 401


def test_api_status_report_and_document(app, client, as_anna, db_session, profile):
    app.config["FAX_SIMULATOR_SECONDS"] = 3600
    upload(as_anna, profile, pdf_of(1), "eins.pdf")
    as_anna.post(f"{base(profile)}/send", data={"destination": "040 1234567", "resolution": "fine",
                                                "action": "send"}, headers=HTMX)
    fax = db_session.scalar(select(SentFax).where(SentFax.status == FaxStatus.SENDING))
    import time

    from webapp.services import platform

    ts = str(int(time.time()))
    signed = {platform.TIMESTAMP_HEADER: ts, platform.SIGNATURE_HEADER: platform.sign("test-platform-secret", ts, b"")}
    document = client.get(f"/api/v1/fax/sent/{fax.platform_fax_id}/document", headers=signed)
    assert document.status_code == 200 and document.mimetype == "image/tiff"
    with Image.open(io.BytesIO(document.data)) as tiff:
        assert tiff.n_frames == 1 and tiff.mode == "1" and tiff.width == 1728
    assert client.get("/api/v1/fax/sent/nope/document", headers=signed).status_code == 404
    reported = signed_post(client, "/api/v1/fax/status", json_body={"platform_fax_id": fax.platform_fax_id,
                                                                   "status": "sent"})
    assert reported.status_code == 200 and reported.json["status"] == "sent" and reported.json["changed"]
    repeated = signed_post(client, "/api/v1/fax/status", json_body={"platform_fax_id": fax.platform_fax_id,
                                                                   "status": "busy"})
    assert repeated.status_code == 200 and repeated.json["changed"] is False and repeated.json["status"] == "sent"
    wrong = signed_post(client, "/api/v1/fax/status", json_body={"platform_fax_id": fax.platform_fax_id,
                                                                "status": "exploded"})
    assert wrong.status_code == 422 and wrong.json["field"] == "status"


# --- CLI, dashboard, housekeeping --------------------------------------------------------------


def test_cli_deposits_a_fax_made_from_text(runner, db_session, profile):
    result = runner.invoke(args=["fax-deposit", ANNA_FAX, "--text", "Hallo aus der Kommandozeile", "--caller",
                                 "040 1234567"])
    assert result.exit_code == 0, result.output
    assert "pages" in result.output
    refused = runner.invoke(args=["fax-deposit", "+4930999999", "--text", "x"])
    assert refused.exit_code != 0 and "+4930999999" in refused.output


def test_dashboard_card_and_navigation_count_new_faxes(as_anna, db_session, profile):
    received.deposit_text(db_session, ANNA_FAX, "Neu")
    db_session.commit()
    home = as_anna.get("/me")
    assert "2 neue Faxe" in home.text
    assert 'id="fax-nav-badge"' in home.text


def test_housekeeping_purges_deletions_after_the_undo_time(app, db_session, profile):
    from datetime import timedelta

    from sqlalchemy import update

    from webapp.services import storage
    from webapp.services.fax_jobs import fax_housekeeping

    fax = received.deposit_text(db_session, ANNA_FAX, "Weg damit")
    db_session.commit()
    fax_id, key = fax.id, fax.pdf_key
    db_session.execute(update(ReceivedFax).where(ReceivedFax.id == fax_id)
                       .values(deleted_at=utcnow() - timedelta(seconds=received.UNDO_SECONDS + 1)))
    db_session.commit()
    assert storage.exists(key)
    assert fax_housekeeping.call_local()["purged"] >= 1
    db_session.expire_all()
    assert db_session.get(ReceivedFax, fax_id) is None and not storage.exists(key)


@pytest.mark.parametrize("method, path, data", [
    ("get", "?page=-5&day_from=2026-13-45&show=evil&sender=" + "9" * 200, None),
    ("get", "?day_from=0001-01-01&day_until=0001-01-01", None),
    ("get", "/sent?page=abc&destination=%00&day_from=x", None),
    ("post", "/received/bulk", {"action": "delete", "ids": "abc,-1,99999999999999"}),
    ("post", "/received/bulk", {"action": "explode", "ids": "1"}),
    ("post", "/received/restore", {"ids": ""}),
    ("post", "/send", {"destination": "x" * 1000, "resolution": "evil", "action": "send",
                       "send_later": "y", "send_after": "garbage", "cover_note": "n" * 5000}),
    ("post", "/send", {"destination": "\x00", "action": "save"}),
    ("post", "/settings", {"email_addresses": "@@@," * 400, "header_line": "\x07", "station_id": "\x00"}),
    ("post", "/send/documents", {}),
    ("get", "/received/1/page-0.png", None),
    ("get", "/send/999999/preview/v0-1.png", None),
])
def test_bad_input_is_never_a_500(as_anna, profile, method, path, data):
    response = getattr(as_anna, method)(base(profile) + path, data=data, headers=HTMX)
    assert response.status_code < 500, response.text[:500]
    assert response.status_code in (200, 404, 422) or 300 <= response.status_code < 400
