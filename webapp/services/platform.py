"""The one seam to the telephony platform.

Out: provisioning events go into the ``platform_events`` outbox in the same transaction as the
change they describe; a job hands pending events to the configured adapter (the embedded
simulator, or a webhook signed with HMAC-SHA256). In: deposits arrive on the signed ``/api/v1``
blueprint, which checks requests with ``verify_request`` below.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.request
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import after_commit
from ..models import DeliveryStatus, PlatformEvent, utcnow

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-UMS-Signature"
TIMESTAMP_HEADER = "X-UMS-Timestamp"
MAX_CLOCK_SKEW = 300


class PlatformAdapter(Protocol):
    def deliver(self, event: PlatformEvent) -> None: ...


# How the embedded simulator answers an event kind as a platform would (e.g. a fax's result).
SIMULATED_ANSWERS: dict[str, Any] = {}


class SimulatorAdapter:
    """Embedded default: accepts every event and logs it, as a healthy platform would."""

    def deliver(self, event: PlatformEvent) -> None:
        log.info("platform simulator accepted %s #%s %s", event.kind, event.id, event.payload)
        answer = SIMULATED_ANSWERS.get(event.kind)
        if answer is not None:
            answer(event)


class WebhookAdapter:
    def __init__(self, url: str, secret: str, timeout: float = 10.0):
        self.url, self.secret, self.timeout = url, secret, timeout

    def deliver(self, event: PlatformEvent) -> None:
        body = json.dumps(
            {"id": event.id, "kind": event.kind, "created_at": event.created_at.isoformat(),
             "payload": event.payload},
            separators=(",", ":"),
        ).encode()
        timestamp = str(int(time.time()))
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: sign(self.secret, timestamp, body),
            },
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
            if response.status >= 300:
                raise OSError(f"platform answered {response.status}")


def adapter_from_config(config: dict[str, Any]) -> PlatformAdapter:
    if config.get("PLATFORM_ADAPTER") == "webhook":
        return WebhookAdapter(config["PLATFORM_WEBHOOK_URL"], config["PLATFORM_SECRET"])
    return SimulatorAdapter()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_request(
    secret: str, timestamp: str | None, body: bytes, signature: str | None, now: float | None = None
) -> bool:
    if not timestamp or not signature:
        return False
    try:
        skew = abs((now or time.time()) - int(timestamp))
    except ValueError:
        return False
    if skew > MAX_CLOCK_SKEW:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def accept_once(session: Session, request_key: str, now: float | None = None) -> bool:
    """Remember an accepted signed request (method, path and signature); False when it was seen
    before (a replay).

    The unique key decides across processes: a second copy arriving at the same time waits for
    the first one's transaction and then fails. Signatures older than the time window (after
    which ``verify_request`` refuses the timestamp anyway) are forgotten."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import delete
    from sqlalchemy.exc import IntegrityError

    from ..models.system import ApiRequestSignature

    moment = datetime.fromtimestamp(now, UTC) if now else utcnow()
    session.execute(delete(ApiRequestSignature).where(
        ApiRequestSignature.seen_at < moment - timedelta(seconds=2 * MAX_CLOCK_SKEW)))
    try:
        with session.begin_nested():
            session.add(ApiRequestSignature(signature=hashlib.sha256(request_key.encode()).hexdigest(),
                                            seen_at=moment))
    except IntegrityError:
        return False
    return True


def emit(session: Session, kind: str, **payload: Any) -> PlatformEvent:
    """Record a provisioning event; it is dispatched after the surrounding commit."""
    event = PlatformEvent(kind=kind, payload=payload)
    session.add(event)
    enqueue_after_commit(session)
    return event


def enqueue_after_commit(session: Session) -> None:
    """Queue one dispatch job once committed (a shortcut: if the queue is unreachable, the outbox
    relay delivers the events when they are due)."""
    if not session.info.get("platform_dispatch_queued"):
        session.info["platform_dispatch_queued"] = True

        def _enqueue() -> None:
            session.info.pop("platform_dispatch_queued", None)
            from ..jobs import dispatch_platform_events

            dispatch_platform_events()

        after_commit(session, _enqueue)


def dispatch_pending(session: Session, adapter: PlatformAdapter, limit: int = 200) -> int:
    """Deliver every pending event now, in order, in the caller's transaction; stop at the first
    failure so order is kept (``flask dispatch``; the relay is ``outbox.dispatch_events``)."""
    from . import outbox

    events = session.scalars(
        select(PlatformEvent)
        .where(PlatformEvent.status == DeliveryStatus.PENDING)
        .order_by(PlatformEvent.id)
        .limit(limit)
    ).all()
    delivered = 0
    for event in events:
        event.attempts += 1
        try:
            adapter.deliver(event)
        except Exception as exc:  # noqa: BLE001 - any adapter failure is recorded and retried
            outbox.record_failure(event, exc, utcnow())
            session.flush()
            raise
        event.status = DeliveryStatus.SENT
        event.delivered_at = utcnow()
        outbox.record_success(event)
        delivered += 1
    session.flush()
    return delivered


def dispatch_pending_now() -> int:
    """Job body: deliver the due events through the relay (claimed, so no event goes out twice)."""
    from . import outbox

    return outbox.dispatch_events()
