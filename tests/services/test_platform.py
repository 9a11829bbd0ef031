"""The seam to the telephony platform: a transactional outbox, an ordered dispatcher, and the
signed webhook checked by a real local HTTP server."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from webapp.models import DeliveryStatus, PlatformEvent
from webapp.services import platform

SECRET = "webhook-test-secret"


def pending_ids(session) -> list[int]:
    return list(session.scalars(select(PlatformEvent.id).where(PlatformEvent.status == DeliveryStatus.PENDING)
                                .order_by(PlatformEvent.id)))


class Recording:
    """An adapter that records what it is handed and can fail on a given kind."""

    def __init__(self, fail_on: str | None = None):
        self.kinds: list[str] = []
        self.fail_on = fail_on

    def deliver(self, event):
        if event.kind == self.fail_on:
            raise OSError("platform unreachable")
        self.kinds.append(event.kind)


# --- outbox ---------------------------------------------------------------------------------------


def test_emit_writes_the_event_in_the_callers_transaction(db_session):
    event = platform.emit(db_session, "profile.created", profile_id=7, email="x@muster.example")
    db_session.flush()
    assert event.status == DeliveryStatus.PENDING
    assert event.id in pending_ids(db_session)

    db_session.rollback()
    assert db_session.scalar(select(PlatformEvent).where(PlatformEvent.kind == "profile.created")) is None


def test_committed_events_are_dispatched_by_the_job_after_the_commit(db_session):
    first = platform.emit(db_session, "profile.created", profile_id=7)
    second = platform.emit(db_session, "number.assigned", profile_id=7, number="+4930123456710")
    db_session.commit()  # the queue runs immediately in tests; the simulator accepts everything
    db_session.refresh(first)
    db_session.refresh(second)
    assert first.status == second.status == DeliveryStatus.SENT
    assert first.attempts == second.attempts == 1
    assert first.delivered_at is not None


def test_dispatcher_delivers_pending_events_in_order(db_session):
    kinds = ["profile.created", "number.assigned", "voicemail.changed", "profile.deleted"]
    for kind in kinds:
        db_session.add(PlatformEvent(kind=kind, payload={"profile_id": 1}))
    db_session.flush()
    adapter = Recording()
    assert platform.dispatch_pending(db_session, adapter) == len(kinds)
    assert adapter.kinds[-len(kinds):] == kinds
    assert pending_ids(db_session) == []


def test_dispatcher_stops_at_the_first_failure_so_order_is_kept(db_session):
    for kind in ["a.first", "b.fails", "c.after"]:
        db_session.add(PlatformEvent(kind=kind, payload={}))
    db_session.flush()
    adapter = Recording(fail_on="b.fails")
    with pytest.raises(OSError):
        platform.dispatch_pending(db_session, adapter)
    assert "c.after" not in adapter.kinds
    events = {e.kind: e for e in db_session.scalars(
        select(PlatformEvent).where(PlatformEvent.kind.in_(["a.first", "b.fails", "c.after"])))}
    assert events["a.first"].status == DeliveryStatus.SENT
    assert events["b.fails"].status == DeliveryStatus.PENDING
    assert events["b.fails"].last_error == "platform unreachable"
    assert events["b.fails"].attempts == 1
    assert events["c.after"].status == DeliveryStatus.PENDING and events["c.after"].attempts == 0

    # the next run starts again at the failed event
    retry = Recording()
    platform.dispatch_pending(db_session, retry)
    assert retry.kinds[:2] == ["b.fails", "c.after"]


# --- the signed webhook against a real HTTP server ------------------------------------------------


class PlatformStub(BaseHTTPRequestHandler):
    received: list[dict]
    secret: str

    def do_POST(self):  # noqa: N802 - http.server's hook name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        ok = platform.verify_request(self.secret, self.headers.get(platform.TIMESTAMP_HEADER), body,
                                     self.headers.get(platform.SIGNATURE_HEADER))
        if ok and self.headers["Content-Type"] == "application/json":
            self.received.append(json.loads(body))
            self.send_response(204)
        else:
            self.send_response(401)
        self.end_headers()

    def log_message(self, *args):  # keep the test output quiet
        pass


@pytest.fixture
def platform_server():
    handler = type("Stub", (PlatformStub,), {"received": [], "secret": SECRET})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/events", handler.received
    server.shutdown()
    server.server_close()


def test_webhook_adapter_delivers_signed_events_in_order(db_session, platform_server):
    url, received = platform_server
    for n in range(3):
        db_session.add(PlatformEvent(kind="number.assigned", payload={"n": n}))
    db_session.flush()
    platform.dispatch_pending(db_session, platform.WebhookAdapter(url, SECRET))
    mine = [event for event in received if event["kind"] == "number.assigned"]
    assert [event["payload"]["n"] for event in mine] == [0, 1, 2]
    assert all({"id", "kind", "created_at", "payload"} <= set(event) for event in mine)
    assert pending_ids(db_session) == []


def test_webhook_refused_by_the_platform_keeps_the_event_pending(db_session, platform_server):
    url, received = platform_server
    event = PlatformEvent(kind="profile.created", payload={})
    db_session.add(event)
    db_session.flush()
    with pytest.raises(OSError):
        platform.dispatch_pending(db_session, platform.WebhookAdapter(url, "wrong-secret"))
    assert received == []
    assert event.status == DeliveryStatus.PENDING
    assert "401" in event.last_error


def test_the_adapter_is_chosen_by_config():
    assert isinstance(platform.adapter_from_config({"PLATFORM_ADAPTER": "simulator"}), platform.SimulatorAdapter)
    webhook = platform.adapter_from_config(
        {"PLATFORM_ADAPTER": "webhook", "PLATFORM_WEBHOOK_URL": "http://p.example/e", "PLATFORM_SECRET": "s"})
    assert isinstance(webhook, platform.WebhookAdapter) and webhook.url == "http://p.example/e"


# --- signatures -----------------------------------------------------------------------------------


def test_signature_covers_timestamp_and_body():
    now = int(time.time())
    ts = str(now)
    signature = platform.sign(SECRET, ts, b'{"a":1}')
    assert signature.startswith("sha256=")
    assert platform.verify_request(SECRET, ts, b'{"a":1}', signature, now=now)
    assert not platform.verify_request(SECRET, ts, b'{"a":2}', signature, now=now)
    assert not platform.verify_request("other", ts, b'{"a":1}', signature, now=now)
    assert not platform.verify_request(SECRET, str(now + 1), b'{"a":1}', signature, now=now)
    assert not platform.verify_request(SECRET, None, b"", signature)
    assert not platform.verify_request(SECRET, "yesterday", b"", signature)


@pytest.mark.parametrize(("skew", "ok"), [(0, True), (299, True), (-299, True), (301, False), (-301, False)])
def test_signature_is_only_valid_within_five_minutes(skew, ok):
    ts = str(int(time.time()))
    signature = platform.sign(SECRET, ts, b"")
    assert platform.verify_request(SECRET, ts, b"", signature, now=int(ts) + skew) is ok
