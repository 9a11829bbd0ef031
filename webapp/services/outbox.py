"""The outbox relay: the ``mail_messages`` and ``platform_events`` rows are the truth.

Every change that sends something writes its outbox row in the same transaction; the job queued
after the commit is only a shortcut. A periodic job (and the consumer at its start) re-sends every
row that is due, with exponential backoff, for ``OUTBOX_RETRY_HOURS`` before the row counts as
undeliverable (status ``failed``, listed for the back office, who can send it again).

Rows are *claimed* before they are sent (``claimed_until``, a lease a killed sender gives up by
itself): on PostgreSQL with ``FOR UPDATE SKIP LOCKED``, on SQLite under the write lock, so several
consumers never send one row twice. Sending happens outside any transaction, so a slow SMTP server
or platform holds no database lock.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from ..models import DeliveryStatus, MailMessage, PlatformEvent, User, utcnow
from . import audit

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
LEASE = timedelta(minutes=10)
DEFAULT_RETRY_HOURS = 48.0


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after ``attempts`` failed ones: 30 s, 1 min, 2 min … at most 1 h."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_RETRY)


def retry_window() -> timedelta:
    return timedelta(hours=float(current_app.config.get("OUTBOX_RETRY_HOURS", DEFAULT_RETRY_HOURS)))


def record_failure(row: MailMessage | PlatformEvent, error: BaseException | str, now: datetime) -> None:
    """One failed try: retry later with backoff, or give up once it fails for the whole window."""
    row.last_error = str(error)[:1000] or type(error).__name__
    row.claimed_until = None
    row.failing_since = row.failing_since or now
    if now - row.failing_since >= retry_window():
        row.status = DeliveryStatus.FAILED
        row.next_attempt_at = None
        log.error("outbox %s #%s undeliverable since %s: %s", type(row).__name__, row.id,
                  row.failing_since, row.last_error)
    else:
        row.status = DeliveryStatus.PENDING
        row.next_attempt_at = now + backoff(row.attempts)


def record_success(row: MailMessage | PlatformEvent) -> None:
    row.claimed_until = None
    row.next_attempt_at = None
    row.failing_since = None
    row.last_error = None


def _due(model, now: datetime, *, force: bool):
    query = select(model).where(
        model.status == DeliveryStatus.PENDING,
        or_(model.claimed_until.is_(None), model.claimed_until < now),
    )
    if not force:
        query = query.where(or_(model.next_attempt_at.is_(None), model.next_attempt_at <= now))
    return query.order_by(model.id)


def _lock(session: Session, query):
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query  # SQLite: the transaction holds the write lock since BEGIN IMMEDIATE


def claim(session: Session, model, now: datetime, *, ids: list[int] | None = None, limit: int = 50,
          force: bool = False) -> list:
    """Claim due rows for this sender (the caller commits); returns them, loaded."""
    query = _due(model, now, force=force)
    if ids is not None:
        query = query.where(model.id.in_(ids))
    rows = list(session.scalars(_lock(session, query.limit(limit))))
    if model is PlatformEvent and rows:
        # Events go out in order: only the sender holding the oldest pending event sends.
        head = session.scalar(select(PlatformEvent.id).where(
            PlatformEvent.status == DeliveryStatus.PENDING).order_by(PlatformEvent.id).limit(1))
        if rows[0].id != head:
            return []
    for row in rows:
        row.claimed_until = now + LEASE
    session.flush()
    return rows


def _new_session() -> Session:
    from ..extensions import db

    return db.new_session()


def _in_transaction(fn):
    session = _new_session()
    try:
        result = fn(session)
        session.commit()
        return result
    finally:
        session.rollback()
        session.close()


# --- mail --------------------------------------------------------------------------------------


def send_mail(mail_ids: list[int] | None = None, *, now: datetime | None = None, force: bool = False,
              limit: int = 50) -> dict[str, int]:
    """Send due mail (or just ``mail_ids``); returns counts by outcome."""
    from . import mail

    now = now or utcnow()
    smtp = bool(current_app.config.get("SMTP_HOST"))
    sender = current_app.config["MAIL_FROM"]

    def _claim(session):
        rows = claim(session, MailMessage, now, ids=mail_ids, limit=limit, force=force)
        return [(row.id, mail.build_email(row, sender) if smtp else None) for row in rows]

    outcome = {"sent": 0, "retry": 0, "failed": 0}
    for mail_id, email in _in_transaction(_claim):
        error: BaseException | None = None
        if email is not None:
            try:
                mail.send_smtp(email)
            except (OSError, smtplib.SMTPException) as exc:
                error = exc

        def _record(session, mail_id=mail_id, error=error):
            row = session.get(MailMessage, mail_id)
            row.attempts += 1
            if error is not None:
                record_failure(row, error, now)
                return "failed" if row.status == DeliveryStatus.FAILED else "retry"
            mail.mark_delivered(session, row, DeliveryStatus.SENT if smtp else DeliveryStatus.LOCAL)
            record_success(row)
            return "sent"

        outcome[_in_transaction(_record)] += 1
    return outcome


# --- platform events ---------------------------------------------------------------------------


DISPATCH_ROUNDS = 20


def dispatch_events(*, now: datetime | None = None, force: bool = False, limit: int = 200) -> int:
    """Deliver due platform events in order, stopping at the first failure; returns how many.

    Events that delivering created (a simulated answer leading to a retry) are held back while the
    earlier ones are still claimed, so another round takes them instead of waiting for the relay."""
    delivered = 0
    for _round in range(DISPATCH_ROUNDS):
        count, complete = _dispatch_round(now=now, force=force, limit=limit)
        delivered += count
        if not count or not complete:
            break
    return delivered


def _dispatch_round(*, now: datetime | None, force: bool, limit: int) -> tuple[int, bool]:
    from . import platform

    now = now or utcnow()
    adapter = platform.adapter_from_config(current_app.config)
    events = _in_transaction(lambda session: claim(session, PlatformEvent, now, limit=limit, force=force))
    delivered = 0
    for index, event in enumerate(events):
        try:
            adapter.deliver(event)
        except Exception as exc:  # noqa: BLE001 - any adapter failure is recorded and retried
            rest = [e.id for e in events[index + 1:]]

            def _fail(session, event_id=event.id, exc=exc, rest=rest):
                row = session.get(PlatformEvent, event_id)
                row.attempts += 1
                record_failure(row, exc, now)
                if rest:
                    session.execute(update(PlatformEvent).where(PlatformEvent.id.in_(rest))
                                    .values(claimed_until=None))

            _in_transaction(_fail)
            return delivered, False

        def _done(session, event_id=event.id):
            row = session.get(PlatformEvent, event_id)
            row.attempts += 1
            row.status = DeliveryStatus.SENT
            row.delivered_at = utcnow()
            record_success(row)

        _in_transaction(_done)
        delivered += 1
    return delivered, True


@dataclass
class RelayResult:
    mail: dict[str, int]
    events: int


def relay(*, now: datetime | None = None, force: bool = False) -> RelayResult:
    """One pass of the relay: everything due (everything pending with ``force``)."""
    mail_outcome = {"sent": 0, "retry": 0, "failed": 0}
    while True:  # in batches, until a batch claims nothing new
        batch = send_mail(now=now, force=force)
        for key, value in batch.items():
            mail_outcome[key] += value
        if sum(batch.values()) == 0 or force:
            break
        if batch["retry"] + batch["failed"] == sum(batch.values()):
            break
    events = dispatch_events(now=now, force=force)
    return RelayResult(mail_outcome, events)


# --- the back office's view --------------------------------------------------------------------


def undeliverable(session: Session, limit: int = 200) -> tuple[list[MailMessage], list[PlatformEvent]]:
    mails = list(session.scalars(select(MailMessage).where(MailMessage.status == DeliveryStatus.FAILED)
                                 .order_by(MailMessage.id.desc()).limit(limit)))
    events = list(session.scalars(select(PlatformEvent).where(PlatformEvent.status == DeliveryStatus.FAILED)
                                  .order_by(PlatformEvent.id.desc()).limit(limit)))
    return mails, events


def resend(session: Session, user: User, row: MailMessage | PlatformEvent) -> None:
    """Send an undeliverable row again: pending, due now, a fresh retry window (the caller's
    authorisation is checked by the route through authz)."""
    from .errors import ValidationFailed

    if row.status != DeliveryStatus.FAILED:
        from flask_babel import lazy_gettext as _l

        raise ValidationFailed(_l("This item is not undeliverable (any more)."))
    row.status = DeliveryStatus.PENDING
    row.next_attempt_at = None
    row.failing_since = None
    row.claimed_until = None
    kind = "mail" if isinstance(row, MailMessage) else "platform_event"
    audit.record(session, user, "outbox.resend", subject=f"{kind} #{row.id}", kind=kind, id=row.id)
    session.flush()
    if isinstance(row, MailMessage):
        from . import mail

        mail.enqueue_after_commit(session, row.id)
    else:
        from . import platform

        platform.enqueue_after_commit(session)
