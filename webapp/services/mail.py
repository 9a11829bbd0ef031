"""Outgoing mail: written to the mail outbox in the causing transaction, delivered by a job.

With ``SMTP_HOST`` set, delivery goes over SMTP; otherwise the message stays in the local outbox
(status ``local``) that the development-only „Dev-Postfach" page shows.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import after_commit
from ..models import DeliveryStatus, MailMessage, utcnow

# Hooks run after the SMTP server accepted a message, keyed by MailMessage.after_send.
AFTER_SEND_HOOKS: dict[str, Callable[[Session, int], None]] = {}


def queue(
    session: Session,
    to: str,
    template: str,
    *,
    subject,
    locale: str = "de",
    attachment: tuple[str, str, bytes] | None = None,
    after_send: tuple[str, int] | None = None,
    **context,
) -> MailMessage:
    """Render ``templates/mail/<template>.txt`` in the recipient's language and queue it."""
    with force_locale(locale):
        subject_text = str(subject)
        body = render_template(f"mail/{template}.txt", **context)
    message = MailMessage(recipient=to, subject=subject_text, body_text=body)
    if attachment:
        message.attachment_name, message.attachment_type, message.attachment = attachment
    if after_send:
        message.after_send, message.after_send_ref = after_send
    session.add(message)
    session.flush()
    enqueue_after_commit(session, message.id)
    return message


def enqueue_after_commit(session: Session, mail_id: int) -> None:
    """Queue the delivery job once committed: a shortcut only — if the queue is unreachable, the
    failure is logged (``db.after_commit``) and the outbox relay sends the row when it is due."""

    def _enqueue() -> None:
        from ..jobs import deliver_mail

        deliver_mail(mail_id)

    after_commit(session, _enqueue)


def build_email(message: MailMessage, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(domain="ums.example")
    email.set_content(message.body_text)
    if message.attachment is not None:
        # The type may carry parameters, e.g. "text/calendar; method=REQUEST" for an invitation.
        mime, *params = (message.attachment_type or "application/octet-stream").split(";")
        maintype, _, subtype = mime.strip().partition("/")
        email.add_attachment(
            message.attachment, maintype=maintype, subtype=subtype, filename=message.attachment_name,
            params=dict(p.strip().partition("=")[::2] for p in params if "=" in p),
        )
    return email


def send_smtp(email: EmailMessage) -> None:
    cfg = current_app.config
    with smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=30) as smtp:
        if cfg.get("SMTP_STARTTLS"):
            smtp.starttls()
        if cfg.get("SMTP_USER"):
            smtp.login(cfg["SMTP_USER"], cfg["SMTP_PASSWORD"] or "")
        smtp.send_message(email)


def deliver(session: Session, message: MailMessage) -> DeliveryStatus:
    """Deliver one message now in the caller's transaction (the relay, ``outbox.send_mail``, is
    the normal path: it claims rows and sends outside any transaction)."""
    from . import outbox

    if message.status in (DeliveryStatus.SENT, DeliveryStatus.LOCAL):
        return message.status
    message.attempts += 1
    if current_app.config.get("SMTP_HOST"):
        try:
            send_smtp(build_email(message, current_app.config["MAIL_FROM"]))
        except (OSError, smtplib.SMTPException) as exc:
            outbox.record_failure(message, exc, utcnow())
            session.flush()
            raise
    mark_delivered(session, message, DeliveryStatus.SENT if current_app.config.get("SMTP_HOST")
                   else DeliveryStatus.LOCAL)
    outbox.record_success(message)
    session.flush()
    return message.status


def mark_delivered(session: Session, message: MailMessage, status: DeliveryStatus) -> None:
    """The server accepted the message (or it stays in the local outbox): record it, run its hook."""
    message.status = status
    message.sent_at = utcnow()
    message.last_error = None
    if message.after_send and message.after_send in AFTER_SEND_HOOKS:
        AFTER_SEND_HOOKS[message.after_send](session, message.after_send_ref)
    session.flush()


def deliver_by_id(mail_id: int) -> str:
    """Job body: claim and deliver one message (nothing when another sender has it or it is not due)."""
    from . import outbox

    outcome = outbox.send_mail([mail_id])
    return next((key for key, count in outcome.items() if count), "skipped")


def pending_ids(session: Session) -> list[int]:
    """Messages not delivered yet, oldest first (``flask dispatch`` sends them without the queue)."""
    return list(session.scalars(
        select(MailMessage.id).where(MailMessage.status == DeliveryStatus.PENDING).order_by(MailMessage.id)))


def local_outbox(session: Session, limit: int = 200) -> list[MailMessage]:
    return list(session.scalars(select(MailMessage).order_by(MailMessage.id.desc()).limit(limit)))
