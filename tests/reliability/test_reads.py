"""Reading requests cost as few round trips as they can (issue 12) and stay safe doing so.

- On PostgreSQL a GET runs without BEGIN and COMMIT (autocommit); on SQLite it reads without the
  write lock. A GET view that writes must say so (``@writes``).
- A GET view that writes without saying so fails the tests (``UnmarkedWrite``); in production it
  is logged, and its writes are still one transaction: undone when the request is refused.
- A pooled PostgreSQL connection is pinged only after it rested (``DB_PING_AFTER``): a connection
  the server ended while it rested is replaced without the request noticing.

These tests commit for real (SQLite file, or PostgreSQL with TEST_DATABASE_URL).
"""

from __future__ import annotations

import logging
import time

import pytest
from sqlalchemy import func, select, text

from tests.conftest import TEST_DATABASE_URL, drop_database, login, prepared_database
from tests.conftest import test_config as make_config
from webapp import create_app
from webapp.db import UnmarkedWrite, make_engine, writes
from webapp.extensions import db
from webapp.models import AuditEntry
from webapp.services import audit
from webapp.services.errors import AccessDenied

ADMIN = "admin@muster.example"


def _probe_entries(app, subject: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.subject == subject))


def _register(app):
    def unmarked_write_then_refused():
        audit.record(db.session, None, "probe.read", subject="unmarked refused")
        db.session.flush()
        raise AccessDenied("nein")

    def unmarked_write():
        audit.record(db.session, None, "probe.read", subject="unmarked kept")
        return "written"

    def marked_write():
        audit.record(db.session, None, "probe.read", subject="marked")
        return "written"

    def transaction_state():
        db.session.execute(text("SELECT 1"))  # psycopg begins (or not) with the first statement
        raw = db.session.connection().connection.driver_connection
        return {"autocommit": bool(getattr(raw, "autocommit", False)),
                "in_transaction": bool(getattr(raw, "info", None) and raw.info.transaction_status != 0)}

    app.add_url_rule("/_probe/unmarked-refused", "probe_unmarked_refused", unmarked_write_then_refused)
    app.add_url_rule("/_probe/unmarked", "probe_unmarked", unmarked_write)
    app.add_url_rule("/_probe/marked", "probe_marked", writes(marked_write))
    app.add_url_rule("/_probe/state", "probe_state", transaction_state, methods=["GET", "POST"])


@pytest.fixture(scope="module")
def production_app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reads")
    url = prepared_database(tmp, "reads")
    app = create_app(make_config(url, MEDIA_ROOT=str(tmp / "media"), TESTING=False, PROPAGATE_EXCEPTIONS=False))
    _register(app)
    yield app
    app.extensions["db"].engine.dispose()
    drop_database(url)


def test_a_get_that_writes_unmarked_fails_the_tests(app, client):
    _register(app)
    with pytest.raises(UnmarkedWrite, match="probe_unmarked"):
        client.get("/_probe/unmarked")
    assert client.get("/_probe/marked").text == "written"


def test_in_production_an_unmarked_write_is_logged_and_stays_one_transaction(production_app, caplog):
    client = production_app.test_client()
    with caplog.at_level(logging.WARNING, logger="webapp.db"):
        assert client.get("/_probe/unmarked-refused").status_code == 403
    assert "mark its view @writes" in caplog.text
    assert _probe_entries(production_app, "unmarked refused") == 0  # refused: nothing stays

    before = _probe_entries(production_app, "unmarked kept")
    assert client.get("/_probe/unmarked").text == "written"
    assert _probe_entries(production_app, "unmarked kept") == before + 1


def test_a_get_on_postgresql_runs_without_a_transaction_and_a_post_with_one(production_app):
    if not production_app.config["DATABASE_URL"].startswith("postgresql"):
        pytest.skip("PostgreSQL's transactions")
    client = production_app.test_client()
    assert client.get("/_probe/state").json == {"autocommit": True, "in_transaction": False}
    assert client.post("/_probe/state").json == {"autocommit": False, "in_transaction": True}
    # and the pages still read what they read before
    login(client, ADMIN)
    assert client.get("/ums", headers={"HX-Request": "true"}).status_code == 200


def _end_the_pooled_connection(url: str, engine) -> int:
    """The server ends the one connection in ``engine``'s pool (as a restart or an idle timeout
    of a proxy would); returns its backend's pid."""
    with engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    killer = make_engine(url)
    with killer.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    killer.dispose()
    time.sleep(0.2)
    return pid


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs TEST_DATABASE_URL (PostgreSQL)")
def test_a_connection_the_server_ended_while_it_rested_is_replaced(tmp_path):
    url = prepared_database(tmp_path, "ping", demo=False)
    rested = make_engine(url, ping_after=0.05, pool_size=1, max_overflow=0)
    busy = make_engine(url, ping_after=3600, pool_size=1, max_overflow=0)
    try:
        first = _end_the_pooled_connection(url, rested)
        with rested.connect() as conn:  # rested longer than ping_after: pinged, found dead, replaced
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != first

        _end_the_pooled_connection(url, busy)
        # not pinged (it rested less than an hour): its use fails once, the pool then starts afresh
        with pytest.raises(Exception), busy.connect() as conn:  # noqa: B017 - psycopg's OperationalError
            conn.execute(text("SELECT 1"))
        with busy.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
    finally:
        rested.dispose()
        busy.dispose()
        drop_database(url)
