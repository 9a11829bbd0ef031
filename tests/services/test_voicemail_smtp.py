"""The notification reaches a real SMTP server (aiosmtpd) with the WAV attached when set."""

from __future__ import annotations

import contextlib
import email
import io
import wave
from email import policy

import pytest
from sqlalchemy import select

from tests.mailserver import free_port
from tests.services.test_voicemail import anna, deposit, settings_input
from webapp.models import DeliveryStatus, MailMessage, User, VoicemailMessage
from webapp.services import voicemail as vm


@pytest.fixture
def app_config(smtp):
    controller, _inbox = smtp
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": controller.port}


@pytest.fixture
def inbox(smtp):
    _controller, box = smtp
    box.envelopes.clear()
    return box


def _received(inbox) -> email.message.EmailMessage:
    assert len(inbox.envelopes) == 1
    return email.message_from_bytes(inbox.envelopes[0].content, policy=policy.default)


def test_notification_with_the_wav_attached(db_session, inbox):
    profile = anna(db_session)
    user = db_session.get(User, profile.user_id)
    vm.update_settings(db_session, user, profile, settings_input(notify_email=True, attach_audio=True))
    message = deposit(db_session, caller="+4940123456789")
    db_session.commit()  # the delivery job runs after the commit (immediately in tests)

    received = _received(inbox)
    assert inbox.envelopes[0].rcpt_tos == [profile.email]
    assert "040 123456789" in received["Subject"]
    body = received.get_body(preferencelist=("plain",)).get_content()
    assert f"/profiles/{profile.id}/voicemail" in body and "/voicemail/listen/" in body
    attachments = list(received.iter_attachments())
    assert len(attachments) == 1 and attachments[0].get_content_type() == "audio/wav"
    with wave.open(io.BytesIO(attachments[0].get_content()), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
        assert wav.getnframes() == pytest.approx(8000, abs=250)
    db_session.expire_all()
    assert db_session.get(VoicemailMessage, message.id) is not None
    mail = db_session.scalars(select(MailMessage).order_by(MailMessage.id.desc())).first()
    assert mail.status == DeliveryStatus.SENT


def test_notification_without_attachment_to_another_address(db_session, inbox):
    profile = anna(db_session)
    user = db_session.get(User, profile.user_id)
    vm.update_settings(db_session, user, profile, settings_input(notify_email=True, notify_address="zentrale@muster.example"))
    deposit(db_session, caller=None)
    db_session.commit()
    received = _received(inbox)
    assert inbox.envelopes[0].rcpt_tos == ["zentrale@muster.example"]
    assert "Unbekannt" in received["Subject"] or "Unknown" in received["Subject"]
    assert list(received.iter_attachments()) == []


def test_delete_after_send_only_once_the_server_accepted(db_session, inbox, smtp):
    profile = anna(db_session)
    user = db_session.get(User, profile.user_id)
    vm.update_settings(db_session, user, profile, settings_input(notify_email=True, attach_audio=True,
                                                                 delete_after_send=True))
    message_id = deposit(db_session).id
    db_session.commit()
    assert len(inbox.envelopes) == 1
    db_session.expire_all()
    assert db_session.get(VoicemailMessage, message_id) is None


def test_refused_mail_keeps_the_message(db_session, app):
    profile = anna(db_session)
    user = db_session.get(User, profile.user_id)
    vm.update_settings(db_session, user, profile, settings_input(notify_email=True, attach_audio=True,
                                                                 delete_after_send=True))
    app.config["SMTP_PORT"] = free_port()  # nobody listens there
    message_id = deposit(db_session).id
    with contextlib.suppress(OSError):  # the immediate job raised; in production Huey retries it
        db_session.commit()
    db_session.expire_all()
    assert db_session.get(VoicemailMessage, message_id) is not None
