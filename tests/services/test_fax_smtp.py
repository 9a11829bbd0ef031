"""Fax to e-mail and the send reports reach a real SMTP server (aiosmtpd) with the PDF attached."""
from __future__ import annotations

import email
import io
from email import policy

import pytest
from pypdf import PdfReader

from tests.services.test_fax import ANNA_FAX, anna, anna_user, draft_with, pdf_of
from webapp.services import fax
from webapp.services.fax import received, sending


@pytest.fixture
def app_config(smtp):
    controller, _inbox = smtp
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": controller.port, "FAX_RETRY_SECONDS": 0,
            "FAX_SIMULATOR_SECONDS": 0}


@pytest.fixture
def inbox(smtp):
    _controller, box = smtp
    box.envelopes.clear()
    return box


def messages(inbox) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(e.content, policy=policy.default) for e in inbox.envelopes]


def test_fax_to_email_with_the_pdf_attached_to_two_addresses(db_session, inbox):
    profile = anna(db_session)
    fax.update_settings(db_session, anna_user(db_session), profile, fax.SettingsInput(
        email_enabled=True, email_addresses="zentrale@muster.example, anna.privat@muster.example",
        header_line="", station_id=""))
    item = received.deposit_text(db_session, ANNA_FAX, "Zeile\n" * 60, caller="040 1234567",
                                 station_id="SPEDITION NORD")
    db_session.commit()  # the delivery jobs run after the commit (at once in tests)
    assert sorted(r for e in inbox.envelopes for r in e.rcpt_tos) == ["anna.privat@muster.example",
                                                                       "zentrale@muster.example"]
    mail = messages(inbox)[0]
    assert "040 1234567" in mail["Subject"] and "2" in mail["Subject"]
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert "SPEDITION NORD" in body and f"/profiles/{profile.id}/fax#fax-in-{item.id}" in body
    attachments = list(mail.iter_attachments())
    assert len(attachments) == 1 and attachments[0].get_content_type() == "application/pdf"
    assert len(PdfReader(io.BytesIO(attachments[0].get_content())).pages) == 2


def test_no_mail_when_fax_to_email_is_off(db_session, inbox):
    received.deposit_text(db_session, ANNA_FAX, "Still", caller="040 1234567")
    db_session.commit()
    assert inbox.envelopes == []


def test_the_sender_gets_the_report_on_success_and_final_failure(db_session, inbox):
    profile, user = anna(db_session), anna_user(db_session)
    ok = draft_with(db_session, user, profile, ("eins.pdf", pdf_of(1)))
    sending.send(db_session, user, profile, ok)
    db_session.commit()
    busy = draft_with(db_session, user, profile, ("eins.pdf", pdf_of(1)), destination="030 1239666")
    sending.send(db_session, user, profile, busy)
    db_session.commit()
    subjects = [m["Subject"] for m in messages(inbox)]
    assert any("gesendet" in s and "nicht" not in s for s in subjects)
    assert any("nicht gesendet" in s for s in subjects)
    for mail in messages(inbox):
        (report,) = list(mail.iter_attachments())
        assert report.get_content_type() == "application/pdf"
        assert len(PdfReader(io.BytesIO(report.get_content())).pages) == 1
