"""A real Huey consumer picks a job from the queue and runs it against the committed database.

Everywhere else the tests run Huey in immediate mode; these tests point the global queue at a
SQLite file or at Redis, start a consumer with one worker thread, and put everything back.
"""

from __future__ import annotations

import os
import signal
import time
import uuid

import pytest
from sqlalchemy import select

from tests.conftest import drop_database, prepared_database
from tests.conftest import test_config as make_config
from webapp import create_app, jobs
from webapp.extensions import db
from webapp.models import DeliveryStatus, MailMessage, PlatformEvent
from webapp.services import mail, platform

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(params=["sqlite", "redis"])
def queued_app(request, tmp_path):
    """An app on a committed database whose jobs go into a real queue (a SQLite file, or Redis as in
    production) instead of running at once. The queue gets a name of its own for this test."""
    if request.param == "redis" and not redis_available():
        pytest.skip(f"Redis is not reachable at {REDIS_URL} (.ci/run starts it)")
    huey = jobs.huey
    saved = (huey.immediate, huey.name, huey.storage_class, huey.storage_kwargs, jobs._worker_app)
    url = prepared_database(tmp_path, "jobs")
    huey.name = f"ums-test-{uuid.uuid4().hex[:8]}"
    app = create_app(make_config(url, HUEY_IMMEDIATE=False, HUEY_SQLITE_PATH=str(tmp_path / "huey.db"),
                                 REDIS_URL=REDIS_URL if request.param == "redis" else None))
    assert not huey.immediate
    yield app
    huey.flush()
    app.extensions["db"].engine.dispose()
    huey.immediate = True  # back to memory storage before the queue settings are restored
    huey.name, huey.storage_class, huey.storage_kwargs, jobs._worker_app = saved[1:]
    huey.immediate = saved[0]
    drop_database(url)


@pytest.fixture
def consumer(queued_app):
    """Start a consumer with one worker thread (it installs signal handlers: restore them)."""
    handlers = {signum: signal.getsignal(signum) for signum in SIGNALS}
    started = []

    def start():
        c = jobs.huey.create_consumer(workers=1, worker_type="thread", periodic=False,
                                      initial_delay=0.05, max_delay=0.2, check_worker_health=False)
        c.start()
        started.append(c)
        return c

    yield start
    for c in started:
        c.stop(graceful=True)
    for signum, handler in handlers.items():
        signal.signal(signum, handler)


def wait_for(predicate, timeout: float = 20.0):
    """Poll the database until the background worker's effect is visible."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("the consumer did not finish the job in time")


def status_of(model, ident):
    with db.new_session() as session:
        return session.scalar(select(model.status).where(model.id == ident))


def test_consumer_delivers_a_queued_mail(queued_app, consumer):
    with queued_app.app_context():
        session = db.session
        message = mail.queue(session, "anna.schmidt@muster.example", "notice", subject="Job-Test",
                             body="Zugestellt vom Consumer.")
        session.commit()  # enqueues deliver_mail(message.id) into the SQLite queue
        assert jobs.huey.pending_count() == 1
        assert status_of(MailMessage, message.id) == DeliveryStatus.PENDING

        consumer()
        assert wait_for(lambda: status_of(MailMessage, message.id) == DeliveryStatus.LOCAL)
        wait_for(lambda: jobs.huey.pending_count() == 0)


def test_consumer_dispatches_platform_events_in_order(queued_app, consumer):
    with queued_app.app_context():
        session = db.session
        first = platform.emit(session, "profile.created", profile="1")
        second = platform.emit(session, "number.assigned", profile="1", number="+4930123456710")
        session.commit()  # one dispatch job for the transaction
        assert jobs.huey.pending_count() == 1

        consumer()
        wait_for(lambda: status_of(PlatformEvent, second.id) == DeliveryStatus.SENT)
        with db.new_session() as check:
            events = check.scalars(select(PlatformEvent).where(PlatformEvent.id.in_([first.id, second.id]))
                                   .order_by(PlatformEvent.id)).all()
            assert [e.status for e in events] == [DeliveryStatus.SENT, DeliveryStatus.SENT]
            assert events[0].delivered_at <= events[1].delivered_at
