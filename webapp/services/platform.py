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

from flask import current_app
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


def emit(session: Session, kind: str, **payload: Any) -> PlatformEvent:
    """Record a provisioning event; it is dispatched after the surrounding commit."""
    event = PlatformEvent(kind=kind, payload=payload)
    session.add(event)
    if not session.info.get("platform_dispatch_queued"):
        session.info["platform_dispatch_queued"] = True

        def _enqueue() -> None:
            session.info.pop("platform_dispatch_queued", None)
            from ..jobs import dispatch_platform_events

            dispatch_platform_events()

        after_commit(session, _enqueue)
    return event


def dispatch_pending(session: Session, adapter: PlatformAdapter, limit: int = 200) -> int:
    """Deliver pending events in order; stop at the first failure so order is kept."""
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
            event.last_error = str(exc)[:1000]
            session.flush()
            raise
        event.status = DeliveryStatus.SENT
        event.delivered_at = utcnow()
        event.last_error = None
        delivered += 1
    session.flush()
    return delivered


def dispatch_pending_now() -> int:
    from ..extensions import db

    session = db.new_session()
    try:
        try:
            return dispatch_pending(session, adapter_from_config(current_app.config))
        finally:
            session.commit()
    finally:
        session.close()
