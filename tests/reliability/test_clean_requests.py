"""Every request ends cleanly, whatever raises where (issue 7 point 1, issue 12 point 1).

These tests commit for real (SQLite file, or PostgreSQL with TEST_DATABASE_URL): after a request
fails in its route, a service, a template, an error handler, its commit or its after-commit work,
another client signs in and saves a change within a second, and no connection stays checked out.
"""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from flask import render_template_string
from sqlalchemy import select

from tests.conftest import drop_database, login, prepared_database
from tests.conftest import test_config as make_config
from webapp import create_app
from webapp.db import after_commit, writes
from webapp.extensions import db
from webapp.models import User, UserToken, utcnow
from webapp.services import audit, sessions, tts
from webapp.services import voicemail as vm

ADMIN = "admin@muster.example"
USER = "anna.schmidt@muster.example"


class ProbeError(Exception):
    pass


def _touch_shared_row():
    """Every probe first writes the row the other client's change writes too (the admin's
    language), so a transaction left open would block that change (a row lock on PostgreSQL, the
    write lock on SQLite)."""
    session = db.session
    admin = session.scalar(select(User).where(User.email == ADMIN))
    admin.locale = "en" if admin.locale == "de" else "de"
    audit.record(session, admin, "probe.write", subject="probe")
    session.flush()
    return session


def _register_probes(app):
    def route_fails():
        _touch_shared_row()
        raise RuntimeError("the route failed")

    def service_fails():
        session = _touch_shared_row()
        user = session.scalar(select(User).where(User.email == USER))
        from webapp.services import authz

        own = authz.own_profile(session, user)
        # a real service raising deep inside: speech synthesis of a text with a NUL byte
        vm.create_draft(session, user, own, vm.GreetingKind.BUSY, vm.GreetingSource.TTS, text="Hallo\x00Welt")
        return "unreachable"

    def template_fails():
        _touch_shared_row()
        return render_template_string("{{ 1 // 0 }}")

    def handler_fails():
        _touch_shared_row()
        raise ProbeError()

    def commit_fails():
        session = _touch_shared_row()
        admin = session.scalar(select(User).where(User.email == ADMIN))
        for _ in range(2):  # the same unique hash twice: the flush at commit fails
            session.add(UserToken(user_id=admin.id, purpose="probe", token_hash="p" * 64, expires_at=utcnow()))
        return "committed?"

    def after_commit_fails():
        session = _touch_shared_row()

        def broken():
            raise ConnectionError("queue unreachable")

        after_commit(session, broken)
        return "saved"

    def error_page_handler(_exc):
        db.session.execute(select(1))
        raise RuntimeError("the error handler failed")

    app.register_error_handler(ProbeError, error_page_handler)
    for name, view in [("route", route_fails), ("service", service_fails), ("template", template_fails),
                       ("handler", handler_fails), ("commit", commit_fails),
                       ("after_commit", after_commit_fails)]:
        app.add_url_rule(f"/_probe/{name}", f"probe_{name}", view, methods=["POST"])

    @writes
    def get_writes():
        _touch_shared_row()
        return "written"

    app.add_url_rule("/_probe/get-writes", "probe_get_writes", get_writes)


@pytest.fixture(scope="module")
def committed_app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("clean")
    url = prepared_database(tmp, "clean")
    app = create_app(make_config(url, MEDIA_ROOT=str(tmp / "media"), TESTING=False,
                                 PROPAGATE_EXCEPTIONS=False, DB_BUSY_TIMEOUT=3, DB_STATEMENT_TIMEOUT=3))
    _register_probes(app)
    yield app
    app.extensions["db"].engine.dispose()
    drop_database(url)


def _timed(fn):
    started = time.monotonic()
    result = fn()
    return result, time.monotonic() - started


@pytest.mark.parametrize(("probe", "status"), [
    ("route", 500), ("service", 500), ("template", 500), ("handler", 500), ("commit", 500),
    ("after_commit", 200),
])
def test_after_a_failure_anywhere_the_next_requests_work_at_once(committed_app, probe, status):
    if probe == "service" and not tts.available():
        pytest.skip("needs espeak-ng")
    failing = committed_app.test_client()
    login(failing, USER)
    response = failing.post(f"/_probe/{probe}")
    assert response.status_code == status
    if status == 500:
        assert "nothing was changed" in response.text or "nichts geändert" in response.text

    other = committed_app.test_client()
    signed_in, took = _timed(lambda: other.post("/login", data={"email": ADMIN, "password": "demo-admin-2026"}))
    assert signed_in.status_code == 302 and took < 1.0, (signed_in.status_code, took)
    saved, took = _timed(lambda: other.post("/language", data={"lang": "en"}))
    assert saved.status_code == 303 and took < 1.0, (saved.status_code, took)
    assert committed_app.extensions["db"].engine.pool.checkedout() == 0

    with committed_app.app_context():
        admin = db.session.scalar(select(User).where(User.email == ADMIN))
        assert admin.locale == "en"  # the other client's change is stored
        probes = db.session.scalar(select(UserToken).where(UserToken.purpose == "probe"))
        assert probes is None  # the failed commit stored nothing


def test_work_after_commit_that_fails_keeps_the_saved_change(committed_app):
    client = committed_app.test_client()
    login(client, USER)
    with committed_app.app_context():
        before = db.session.scalar(select(User.locale).where(User.email == ADMIN))
    assert client.post("/_probe/after_commit").text == "saved"
    with committed_app.app_context():
        assert db.session.scalar(select(User.locale).where(User.email == ADMIN)) != before


def test_the_500_page_needs_no_database(tmp_path):
    """A database that does not answer at all: the signed-in user cannot even be loaded."""
    app = create_app(make_config("postgresql+psycopg://nobody@127.0.0.1:9/none", TESTING=False,
                                 PROPAGATE_EXCEPTIONS=False, DB_CONNECT_TIMEOUT=1,
                                 MEDIA_ROOT=str(tmp_path / "media")))
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie["_user_id"] = "1"
        cookie["_fresh"] = True
        cookie[sessions.COOKIE_KEY] = "a-session-the-database-would-have-to-check"
    response, took = _timed(lambda: client.get("/ums"))
    assert response.status_code == 500 and took < 3
    assert "Bei uns ist etwas schiefgegangen" in response.text
    assert "<nav" in response.text  # the page with its frame, not a bare server error
    partial = client.get("/ums", headers={"HX-Request": "true"})
    assert partial.status_code == 500 and 'id="error-message"' in partial.text
    api = client.post("/api/v1/ping")
    assert api.is_json


def test_a_long_write_does_not_delay_a_read_on_sqlite(committed_app):
    url = committed_app.config["DATABASE_URL"]
    if not url.startswith("sqlite"):
        pytest.skip("SQLite's write lock")
    reader = committed_app.test_client()
    login(reader, ADMIN)
    holding, done = threading.Event(), threading.Event()

    def long_write():
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE users SET locale = locale")
        holding.set()
        done.wait(5)  # the write lasts until the read is over (or 5 s)
        conn.execute("COMMIT")
        conn.close()

    writer = threading.Thread(target=long_write)
    writer.start()
    try:
        assert holding.wait(5)
        page, took = _timed(lambda: reader.get("/ums"))
        assert page.status_code == 200 and took < 1.0, (page.status_code, took)
    finally:
        done.set()
        writer.join()
    # a GET that writes (marked) still takes the write lock and works
    assert reader.get("/_probe/get-writes").text == "written"


def test_a_write_waits_for_the_lock_then_succeeds_on_sqlite(committed_app):
    url = committed_app.config["DATABASE_URL"]
    if not url.startswith("sqlite"):
        pytest.skip("SQLite's write lock")
    client = committed_app.test_client()
    login(client, ADMIN)
    conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.3, lambda: conn.execute("COMMIT"))
    release.start()
    try:
        response = client.post("/language", data={"lang": "de"})
    finally:
        release.join()
        conn.close()
    assert response.status_code == 303


def test_a_database_that_accepts_but_never_answers_is_an_error_within_seconds(tmp_path):
    """A PostgreSQL address that takes the TCP connection and then says nothing: the connect
    timeout ends the wait (libpq counts at least 2 s), and the 500 page still appears."""
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # the kernel completes the handshakes; nobody ever answers
    port = silent.getsockname()[1]
    try:
        app = create_app(make_config(f"postgresql+psycopg://nobody@127.0.0.1:{port}/none", TESTING=False,
                                     PROPAGATE_EXCEPTIONS=False, DB_CONNECT_TIMEOUT=2,
                                     MEDIA_ROOT=str(tmp_path / "media")))
        client = app.test_client()
        with client.session_transaction() as cookie:
            cookie["_user_id"] = "1"
            cookie[sessions.COOKIE_KEY] = "a-session-the-database-would-have-to-check"
        response, took = _timed(lambda: client.get("/ums"))
        assert response.status_code == 500 and took < 6, took
        assert "Bei uns ist etwas schiefgegangen" in response.text
    finally:
        silent.close()


def test_the_reported_case_a_greeting_text_with_a_nul_byte(committed_app):
    """The report: `source=tts`, `text="Hallo\\x00Welt"` on one's own profile took the write lock
    for good. Now the form refuses it (422) and the next sign-in works at once."""
    user = committed_app.test_client()
    login(user, USER)
    with committed_app.app_context():
        from webapp.services import authz

        own = authz.own_profile(db.session, db.session.scalar(select(User).where(User.email == USER)))
        url = f"/profiles/{own.id}/voicemail/greetings/busy"
    assert user.post(url, data={"source": "tts", "text": "Hallo\x00Welt"}).status_code == 422
    other = committed_app.test_client()
    signed_in, took = _timed(lambda: other.post("/login", data={"email": ADMIN, "password": "demo-admin-2026"}))
    assert signed_in.status_code == 302 and took < 1.0, (signed_in.status_code, took)
