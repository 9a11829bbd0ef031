"""Parallel platform calls on PostgreSQL: the same received fax deposited 6 times at once is stored
once (one file, one fax-to-email); the same status report 6 times at once finishes the fax once
(one report mail)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.parallel import run_at_once
from tests.routes.test_api_voicemail import signed_post
from tests.services.test_fax import ANNA_FAX, anna, anna_user, pdf_of

pytestmark = pytest.mark.postgres
PARALLEL = 6


def test_the_same_received_fax_in_parallel_is_stored_once(pg_app):
    from webapp.extensions import db
    from webapp.models import MailMessage, ReceivedFax
    from webapp.services import fax
    from webapp.services.fax import documents

    with pg_app.app_context():
        profile = anna(db.session)
        fax.update_settings(db.session, anna_user(db.session), profile, fax.SettingsInput(
            email_enabled=True, email_addresses="", header_line="", station_id=""))
        db.session.commit()
        mails_before = db.session.scalar(select(func.count()).select_from(MailMessage))
        tiff = documents.tiff(documents.text_pages("Parallel"), "fine")

    def send(_n):
        response = signed_post(pg_app.test_client(), "/api/v1/fax/received", fields={
            "called": ANNA_FAX, "caller": "+4940123456789", "platform_fax_id": "rx-parallel-1"},
            files={"document": (tiff, "fax.tif")})
        return response.status_code, response.json["id"]

    results = run_at_once(PARALLEL, send)
    assert sorted(status for status, _ in results) == [200] * (PARALLEL - 1) + [201]
    assert len({fax_id for _, fax_id in results}) == 1
    with pg_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ReceivedFax)
                                 .where(ReceivedFax.platform_fax_id == "rx-parallel-1")) == 1
        assert db.session.scalar(select(func.count()).select_from(MailMessage)) == mails_before + 1


def test_the_same_status_report_in_parallel_finishes_once(pg_app):
    from webapp.extensions import db
    from webapp.models import FaxStatus, MailMessage, SentFax
    from webapp.services.fax import sending

    pg_app.config.update(FAX_SIMULATOR_SECONDS=3600, HUEY_IMMEDIATE=True)
    with pg_app.app_context():
        profile, user = anna(db.session), anna_user(db.session)
        draft = sending.new_draft(db.session, user, profile)
        sending.add_document(db.session, user, profile, draft, "eins.pdf", pdf_of(1))
        sending.update_draft(db.session, user, profile, draft, sending.DraftInput(
            destination="040 1234567", resolution=draft.resolution, cover_enabled=False, cover_from="",
            cover_to="", cover_subject="", cover_note=""))
        db.session.commit()
        db.session.refresh(draft)
        sending.send(db.session, user, profile, draft)
        db.session.commit()
        db.session.refresh(draft)
        assert draft.status == FaxStatus.SENDING
        platform_fax_id, fax_id = draft.platform_fax_id, draft.id
        mails_before = db.session.scalar(select(func.count()).select_from(MailMessage))

    def send(_n):
        response = signed_post(pg_app.test_client(), "/api/v1/fax/status",
                               json_body={"platform_fax_id": platform_fax_id, "status": "sent"})
        return response.status_code, response.json["changed"]

    results = run_at_once(PARALLEL, send)
    assert sorted(results) == [(200, False)] * (PARALLEL - 1) + [(200, True)]
    with pg_app.app_context():
        assert db.session.get(SentFax, fax_id).status == FaxStatus.SENT
        assert db.session.scalar(select(func.count()).select_from(MailMessage)) == mails_before + 1
