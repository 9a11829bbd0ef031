"""The outbox relay (issue 7 point 2): the outbox rows are the truth.

On a committed database (SQLite file, or PostgreSQL with TEST_DATABASE_URL) with a real SMTP
server (aiosmtpd) that is away for longer than the old limit (6 tries in about 2.5 minutes) and
then back, every mail is delivered exactly once, also with two relays running at once; with Redis
unreachable during a change, the change answers success and its mail arrives later.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from tests.conftest import drop_database, login, prepared_database
from tests.conftest import test_config as make_config
from tests.mailserver import Collector, free_port
from tests.parallel import run_at_once
from tests.routes.test_admin import new_profile_data
from tests.routes.test_api_voicemail import post_deposit
from webapp import create_app, jobs
from webapp.extensions import db
from webapp.models import DeliveryStatus, MailMessage, PlatformEvent, utcnow
from webapp.services import mail, outbox


@pytest.fixture(scope="module")
def committed(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("relay")
    url = prepared_database(tmp_path, "relay")
    port = free_port()
    app = create_app(make_config(url, MEDIA_ROOT=str(tmp_path / "media"), SMTP_HOST="127.0.0.1",
                                 SMTP_PORT=port, TESTING=False, PROPAGATE_EXCEPTIONS=False))
    yield app, port
    app.extensions["db"].engine.dispose()
    drop_database(url)


def _queue(app, n: int) -> list[int]:
    with app.app_context():
        ids = [mail.queue(db.session, f"relay-{i}@muster.example", "notice", subject="Relay",
                          body=f"Nachricht {i}", greeting="Hallo").id for i in range(n)]
        db.session.commit()  # the job tries at once (immediate mode) and finds no server
        return ids


def _rows(app, ids):
    """The outbox rows as they are committed (detached copies to read)."""
    with app.app_context():
        rows = {m.id: m for m in db.session.scalars(select(MailMessage).where(MailMessage.id.in_(ids)))}
        db.session.expunge_all()
        return rows


def test_smtp_away_for_hours_then_back_every_mail_once(committed):
    app, port = committed
    ids = _queue(app, 3)
    start = utcnow()
    # the server stays away for six hours; the relay runs (every 5 minutes here), trying what is due
    moment, tries = start, 0
    while moment < start + timedelta(hours=6):
        moment += timedelta(minutes=5)
        with app.app_context():
            tries += sum(outbox.relay(now=moment).mail.values())
    rows = _rows(app, ids)
    assert all(r.status == DeliveryStatus.PENDING for r in rows.values())
    assert min(r.attempts for r in rows.values()) > 6  # more than the old limit, and not one a minute
    assert max(r.attempts for r in rows.values()) < 20
    assert all(r.last_error for r in rows.values())

    collector = Collector()
    server = Controller(collector, hostname="127.0.0.1", port=port)
    server.start()
    try:
        later = moment + timedelta(hours=1, minutes=1)

        def relay_once(_n):
            with app.app_context():
                return outbox.relay(now=later)

        run_at_once(2, relay_once)  # two consumers at the same moment
        with app.app_context():
            outbox.relay(now=later + timedelta(hours=2))
    finally:
        server.stop()
    recipients = sorted(to for e in collector.envelopes for to in e.rcpt_tos)
    assert recipients == [f"relay-{i}@muster.example" for i in range(3)]
    assert all(r.status == DeliveryStatus.SENT for r in _rows(app, ids).values())


def test_undeliverable_after_the_window_then_resent_from_the_back_office(committed):
    app, port = committed
    [mail_id] = _queue(app, 1)
    with app.app_context():
        event = PlatformEvent(kind="probe.relay", payload={})
        db.session.add(event)
        db.session.commit()
        event_id = event.id
    app.config.update(PLATFORM_ADAPTER="webhook", PLATFORM_WEBHOOK_URL=f"http://127.0.0.1:{free_port()}/x")
    with app.app_context():
        outbox.relay(now=utcnow())
        outbox.relay(now=utcnow() + timedelta(hours=49))
    rows = _rows(app, [mail_id])
    assert rows[mail_id].status == DeliveryStatus.FAILED
    with app.app_context():
        assert db.session.get(PlatformEvent, event_id).status == DeliveryStatus.FAILED

    client = app.test_client()
    login(client, "betrieb@carrier.example")
    page = client.get("/backoffice/outbox")
    assert page.status_code == 200
    assert "relay-0@muster.example" in page.text and "probe.relay" in page.text
    assert "Connection refused" in page.text or "refused" in page.text.lower()

    others = app.test_client()
    login(others, "admin@muster.example")
    assert others.get("/backoffice/outbox").status_code == 404
    assert others.post(f"/backoffice/outbox/mail/{mail_id}/resend").status_code == 404

    collector = Collector()
    server = Controller(collector, hostname="127.0.0.1", port=port)
    server.start()
    try:
        resent = client.post(f"/backoffice/outbox/mail/{mail_id}/resend", headers={"HX-Request": "true"})
        assert resent.status_code == 200
        assert "relay-0@muster.example" not in resent.text  # no longer undeliverable
    finally:
        server.stop()
    assert [e.rcpt_tos for e in collector.envelopes] == [["relay-0@muster.example"]]
    app.config.update(PLATFORM_ADAPTER="simulator")
    assert client.post(f"/backoffice/outbox/event/{event_id}/resend").status_code in (200, 303)
    with app.app_context():
        assert db.session.get(PlatformEvent, event_id).status == DeliveryStatus.SENT


@pytest.fixture
def redis_down(committed):
    """The queue points at Redis on a port where nothing listens (put back afterwards)."""
    app, port = committed
    huey = jobs.huey
    saved = (huey.immediate, huey.name, huey.storage_class, huey.storage_kwargs, jobs._worker_app)
    huey.name = f"ums-test-{uuid.uuid4().hex[:8]}"
    down = create_app({**app.config, "HUEY_IMMEDIATE": False,
                       "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    yield down, port
    down.extensions["db"].engine.dispose()
    huey.immediate = True
    huey.name, huey.storage_class, huey.storage_kwargs, jobs._worker_app = saved[1:]
    huey.immediate = saved[0]


def test_redis_away_during_a_change_the_change_succeeds_and_its_mail_comes_later(redis_down):
    app, port = redis_down
    client = app.test_client()
    login(client, "admin@muster.example")
    with app.app_context():
        data = new_profile_data(db.session, "redis-weg@muster.example")
    created = client.post("/ums/profiles/new", data=data)
    assert created.status_code in (302, 303), created.text[:300]

    deposit = post_deposit(client, message_id=f"plat-redis-{uuid.uuid4().hex[:6]}")
    assert deposit.status_code == 201 and deposit.json["created"] is True

    with app.app_context():
        invitation = db.session.scalar(select(MailMessage).where(MailMessage.recipient == "redis-weg@muster.example"))
        assert invitation.status == DeliveryStatus.PENDING and invitation.attempts == 0
        assert db.session.scalar(select(PlatformEvent).where(PlatformEvent.status == DeliveryStatus.PENDING))

    collector = Collector()
    server = Controller(collector, hostname="127.0.0.1", port=port)
    server.start()
    try:
        with app.app_context():  # the relay, as the consumer runs it every minute
            result = outbox.relay()
    finally:
        server.stop()
    assert "redis-weg@muster.example" in [to for e in collector.envelopes for to in e.rcpt_tos]
    assert result.events >= 1
    with app.app_context():
        assert db.session.scalar(select(PlatformEvent).where(PlatformEvent.status == DeliveryStatus.PENDING)) is None
