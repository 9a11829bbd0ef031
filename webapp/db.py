"""Database access: one engine per app, one session per app context, one commit per request.

Services receive the session explicitly and only flush. ``after_commit(session, fn)`` queues work
(jobs, outbox dispatch) that must only happen once the data it needs is committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

# How long a statement may wait for the database before the request fails with a clear error
# (seconds): SQLite's wait for the write lock, PostgreSQL's connect and statement timeouts.
DEFAULT_BUSY_TIMEOUT = 5.0
DEFAULT_CONNECT_TIMEOUT = 5
DEFAULT_STATEMENT_TIMEOUT = 15.0

# Execution option of the engine that read-only requests use: on SQLite their transaction starts
# with a plain (deferred) BEGIN, a WAL reader that neither takes nor waits for the write lock; on
# PostgreSQL they run without BEGIN and COMMIT (autocommit), two round trips fewer per request.
READ_ONLY = "ums_read_only"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# A pooled PostgreSQL connection idle for longer than this (seconds) is pinged before it is used
# again; busier ones are not (a ping is a round trip). A server restart under load costs the
# requests in flight an error, and SQLAlchemy then replaces every connection of the pool.
DEFAULT_PING_AFTER = 1.0


def make_engine(url: str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
                connect_timeout: int = DEFAULT_CONNECT_TIMEOUT,
                statement_timeout: float = DEFAULT_STATEMENT_TIMEOUT, ping_after: float = DEFAULT_PING_AFTER,
                **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": busy_timeout, "check_same_thread": False},
                               **kwargs)
        _sqlite_transactions(engine, busy_timeout)
        return engine
    connect_args: dict[str, Any] = {}
    if url.startswith("postgresql"):
        # A server that accepts connections but never answers holds no worker for long.
        connect_args = {"connect_timeout": connect_timeout,
                        "options": f"-c statement_timeout={int(statement_timeout * 1000)}"}
    engine = create_engine(url, connect_args=connect_args, **kwargs)
    _ping_when_idle(engine, ping_after)
    return engine


def _ping_when_idle(engine: Engine, after: float) -> None:
    """``pool_pre_ping``, but only for connections that rested longer than ``after`` seconds: a
    connection that was just in use is alive, and pinging it would cost every request a round trip.
    A dead one raises ``DisconnectionError``, so the pool discards it and connects anew."""
    from time import monotonic

    from sqlalchemy.exc import DisconnectionError

    @event.listens_for(engine, "checkin")
    def _rested_from(_dbapi_connection, record):
        if record is not None:
            record.info["checked_in"] = monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection, record, _proxy):
        rested = record.info.get("checked_in")
        if rested is None or monotonic() - rested <= after:
            return
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
            if not getattr(dbapi_connection, "autocommit", True):
                dbapi_connection.rollback()
        except Exception as exc:  # noqa: BLE001 - any failure: the connection is not usable
            raise DisconnectionError(f"pooled connection failed its ping: {exc}") from exc


def _sqlite_transactions(engine: Engine, busy_timeout: float) -> None:
    """Let SQLAlchemy own transactions (pysqlite's own handling breaks SAVEPOINT), take the write
    lock at BEGIN so concurrent writers queue instead of failing, and enforce foreign keys.

    Read-only requests (``READ_ONLY`` execution option) begin without the write lock: in WAL mode
    they read the last committed state while a writer works, instead of queueing behind it."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):  # pragma: no cover - trivial
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):  # pragma: no cover - trivial
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")


def writes(view: Callable) -> Callable:
    """Mark a GET view that writes (an audit entry, a cached file's key): its request takes the
    write lock at its start like any POST, so it queues instead of failing on SQLite."""
    view.db_writes = True  # type: ignore[attr-defined]
    return view


def request_reads_only() -> bool:
    """This request reads only: a GET/HEAD/OPTIONS whose view is not marked ``@writes``."""
    if not has_request_context() or request.method not in SAFE_METHODS:
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    return not getattr(view, "db_writes", False)


class Database:
    """Flask extension holding the engine and session factory in ``app.extensions``."""

    def init_app(self, app: Flask) -> None:
        cfg = app.config
        engine = make_engine(
            cfg["DATABASE_URL"],
            busy_timeout=float(cfg.get("DB_BUSY_TIMEOUT", DEFAULT_BUSY_TIMEOUT)),
            connect_timeout=int(cfg.get("DB_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT)),
            statement_timeout=float(cfg.get("DB_STATEMENT_TIMEOUT", DEFAULT_STATEMENT_TIMEOUT)),
            ping_after=float(cfg.get("DB_PING_AFTER", DEFAULT_PING_AFTER)),
        )
        app.extensions["db"] = _State(engine, sessionmaker(engine, expire_on_commit=False))
        app.teardown_appcontext(self._teardown)

    @staticmethod
    def state(app: Flask | None = None) -> _State:
        return (app or current_app).extensions["db"]

    @property
    def engine(self) -> Engine:
        return self.state().engine

    @property
    def session(self) -> Session:
        if "db_session" not in g:
            g.db_session = self.state().new(read_only=request_reads_only())
        return g.db_session

    def new_session(self) -> Session:
        """A session of its own, for jobs and work that must not share the request's."""
        return self.state().factory()

    @staticmethod
    def _teardown(exc: BaseException | None) -> None:
        """Whatever happened in the request (a failed commit, an error in an error handler), its
        transaction ends here and its connection goes back to the pool, so no lock survives it."""
        end_session(g.pop("db_session", None))


def end_session(session: Session | None) -> None:
    """End the session's transaction and give its connection back to the pool: ``close()``
    rolls back what is still open (the pool's reset on return) and leaves loaded objects
    readable; if even that fails, the connection is invalidated (discarded by the pool)."""
    if session is None:
        return
    try:
        session.close()
    except Exception:  # noqa: BLE001 - the connection itself is what failed
        log.exception("closing the request's session failed; invalidating its connection")
        try:
            session.invalidate()
        except Exception:  # noqa: BLE001
            log.exception("invalidating the request's connection failed")


class _State:
    def __init__(self, engine: Engine, factory: sessionmaker[Session]):
        self.engine = engine
        self.factory = factory
        self._readers: dict[int, Engine] = {}

    def new(self, *, read_only: bool = False) -> Session:
        if not read_only:
            return self.factory()
        bind = self.factory.kw.get("bind")
        session = self.factory(bind=self._reader(bind)) if isinstance(bind, Engine) else self.factory()
        session.info[READ_ONLY] = True
        return session

    def _reader(self, bind: Engine) -> Engine:
        """``bind`` for read-only requests; shares its pool and events."""
        reader = self._readers.get(id(bind))
        if reader is None:
            options: dict[str, Any] = {READ_ONLY: True}
            if bind.dialect.name == "postgresql":
                options["isolation_level"] = "AUTOCOMMIT"
            reader = self._readers[id(bind)] = bind.execution_options(**options)
        return reader


class UnmarkedWrite(RuntimeError):
    """A request that reads only (a GET view without ``@writes``) tried to write."""


def _refuse_or_contain_write(session: Session, what: str) -> None:
    """A read-only request that writes is a missing ``@writes``: tests fail on it; in production it
    is logged and, on PostgreSQL, its transaction begins now so the request's commit or rollback
    still covers every write (on SQLite the deferred BEGIN already does)."""
    if session.info.get("write_contained"):
        return
    endpoint = request.endpoint if has_request_context() else None
    message = f"{what} in a read-only request ({endpoint}): mark its view @writes"
    if has_request_context() and current_app.testing:
        raise UnmarkedWrite(message)
    log.warning(message)
    session.info["write_contained"] = True
    connection = session.connection()
    raw = connection.connection.driver_connection
    if connection.dialect.name == "postgresql" and getattr(raw, "autocommit", False) \
            and raw.info.transaction_status == 0:  # idle: no transaction open yet
        connection.exec_driver_sql("BEGIN")


@event.listens_for(Session, "before_flush")
def _reader_flush(session: Session, _context, _instances) -> None:
    if session.info.get(READ_ONLY):
        _refuse_or_contain_write(session, "a flush")


@event.listens_for(Session, "do_orm_execute")
def _reader_statement(state) -> None:
    if state.session.info.get(READ_ONLY) and (state.is_insert or state.is_update or state.is_delete):
        _refuse_or_contain_write(state.session, "an INSERT, UPDATE or DELETE")


def nothing_to_commit(session: Session) -> bool:
    """A read-only request's session that wrote nothing and queued nothing: the teardown's close
    ends it (on PostgreSQL there is no transaction; on SQLite a read one), no commit needed."""
    return bool(session.info.get(READ_ONLY)) and not session.info.get("write_contained") \
        and not session.info.get("after_commit") and not (session.new or session.dirty or session.deleted)


COMMIT_ON_REFUSAL = "commit_on_refusal"


def keep_on_refusal(session: Session) -> None:
    """Commit this request's changes even though it answers a refusal (4xx): for counters that
    must stick, such as wrong tries of a one-time code."""
    session.info[COMMIT_ON_REFUSAL] = True


def after_commit(session: Session, fn: Callable[[], Any]) -> None:
    """Run ``fn`` once the session's transaction has committed (dropped on rollback)."""
    session.info.setdefault("after_commit", []).append(fn)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    """Work after the commit never undoes it nor turns it into an error: a failure (the queue is
    unreachable) is logged, and what it was to start is left to the outbox relay."""
    if session.in_nested_transaction():  # a SAVEPOINT was released: nothing is committed yet
        return
    callbacks = session.info.pop("after_commit", [])
    for fn in callbacks:
        try:
            fn()
        except Exception:  # noqa: BLE001 - the change is committed; the relay sends what is due
            log.exception("work after commit failed; the outbox relay will retry it")


@event.listens_for(Session, "after_rollback")
def _drop_after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT rolled back: the outer work still stands
        return
    session.info.pop("after_commit", None)
