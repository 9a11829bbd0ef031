"""Outgoing mail against a real SMTP server (aiosmtpd), and the local outbox with its Dev-Postfach."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import HTMX
from tests.mailserver import free_port, start_server
from webapp.models import DeliveryStatus, MailMessage
from webapp.services import mail

PDF = b"%PDF-1.4\n% test attachment\n"


@pytest.fixture
def smtp_server():
    controller, _collector = start_server()
    yield controller
    controller.stop()


def queue_notice(session, to="anna.schmidt@muster.example", locale="de", **kw):
    return mail.queue(session, to, "notice", subject=kw.pop("subject", "Ihre Sprachnachricht"),
                      locale=locale, body=kw.pop("body", "Sie haben eine neue Nachricht."), **kw)


class TestSmtp:
    @pytest.fixture
    def app_config(self, smtp_server):
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_server.port,
                "MAIL_FROM": "UMS Portal <no-reply@ums.example>"}

    def test_queued_mail_is_sent_after_the_commit(self, db_session, smtp_server):
        message = queue_notice(db_session, attachment=("nachricht.pdf", "application/pdf", PDF))
        assert message.status == DeliveryStatus.PENDING
        assert smtp_server.handler.envelopes == []  # nothing leaves before the commit

        db_session.commit()

        [envelope] = smtp_server.handler.envelopes
        assert envelope.rcpt_tos == ["anna.schmidt@muster.example"]
        [received] = smtp_server.handler.messages()
        assert received["To"] == "anna.schmidt@muster.example"
        assert received["From"] == "UMS Portal <no-reply@ums.example>"
        assert received["Subject"] == "Ihre Sprachnachricht"
        body = received.get_body(("plain",)).get_content()
        assert "Hallo," in body
        assert "Sie haben eine neue Nachricht." in body
        [attachment] = list(received.iter_attachments())
        assert attachment.get_filename() == "nachricht.pdf"
        assert attachment.get_content_type() == "application/pdf"
        assert attachment.get_content() == PDF

        db_session.refresh(message)
        assert message.status == DeliveryStatus.SENT
        assert message.sent_at is not None and message.attempts == 1

    def test_mail_is_written_in_the_recipients_language(self, db_session, smtp_server):
        queue_notice(db_session, locale="en", subject="Your voice message", body="You have a new message.")
        db_session.commit()
        [received] = smtp_server.handler.messages()
        body = received.get_body(("plain",)).get_content()
        assert body.startswith("Hello,")
        assert "Your UMS Portal" in body

    def test_a_rolled_back_transaction_sends_nothing(self, db_session, smtp_server):
        queue_notice(db_session)
        db_session.rollback()
        assert smtp_server.handler.envelopes == []

    def test_after_send_hook_runs_once_the_server_accepted(self, db_session, smtp_server, monkeypatch):
        seen = []
        monkeypatch.setitem(mail.AFTER_SEND_HOOKS, "test.after_send",
                            lambda session, ref: seen.append((ref, len(smtp_server.handler.envelopes))))
        queue_notice(db_session, after_send=("test.after_send", 42))
        db_session.commit()
        assert seen == [(42, 1)]


class TestSmtpDown:
    @pytest.fixture
    def app_config(self):
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": free_port()}  # nothing listens there

    def test_failed_delivery_stays_pending_with_the_error_for_a_retry(self, db_session):
        message = queue_notice(db_session)
        with pytest.raises(OSError):
            mail.deliver(db_session, message)
        assert message.status == DeliveryStatus.PENDING
        assert message.attempts == 1
        assert message.last_error


class TestLocalOutbox:
    def test_without_smtp_the_mail_lands_in_the_local_outbox(self, app, client, db_session):
        assert not app.config["SMTP_HOST"]
        message = queue_notice(db_session, subject="Testnachricht für das Dev-Postfach")
        db_session.commit()
        db_session.refresh(message)
        assert message.status == DeliveryStatus.LOCAL

        page = client.get("/dev/mailbox")
        assert page.status_code == 200
        assert "Dev-Postfach" in page.text
        assert "Testnachricht für das Dev-Postfach" in page.text
        assert "anna.schmidt@muster.example" in page.text

        partial = client.get("/dev/mailbox", headers=HTMX)
        assert partial.text.lstrip().startswith('<section id="mailbox"')

        detail = client.get(f"/dev/mailbox/{message.id}")
        assert detail.status_code == 200
        assert "Sie haben eine neue Nachricht." in detail.text

    def test_queue_writes_the_outbox_row_in_the_callers_transaction(self, db_session):
        message = queue_notice(db_session, to="max.mueller@muster.example")
        assert db_session.scalar(select(MailMessage).where(MailMessage.id == message.id)) is message
        db_session.rollback()
        assert db_session.scalar(
            select(MailMessage).where(MailMessage.recipient == "max.mueller@muster.example")) is None


class TestDevMailboxOff:
    @pytest.fixture
    def app_config(self):
        return {"DEV_MAILBOX": False}

    def test_dev_mailbox_is_404_when_off(self, client, db_session):
        message = queue_notice(db_session)
        db_session.commit()
        assert client.get("/dev/mailbox").status_code == 404
        assert client.get(f"/dev/mailbox/{message.id}").status_code == 404
        assert "Dev-Postfach" not in client.get("/login").text


def test_flask_dispatch_delivers_pending_mail_without_the_queue(runner, db_session):
    stuck = MailMessage(recipient="max.mueller@muster.example", subject="Liegen geblieben", body_text="Hallo")
    db_session.add(stuck)
    db_session.flush()  # written, but no job was queued for it
    assert stuck.id in mail.pending_ids(db_session)

    result = runner.invoke(args=["dispatch"])
    assert result.exit_code == 0, result.output
    assert "mail delivered: 1" in result.output
    db_session.refresh(stuck)
    assert stuck.status == DeliveryStatus.LOCAL
    assert mail.pending_ids(db_session) == []
