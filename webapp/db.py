"""Database access: one engine per app, one session per app context, one commit per request.

Services receive the session explicitly and only flush. ``after_commit(session, fn)`` queues work
(jobs, outbox dispatch) that must only happen once the data it needs is committed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        _sqlite_transactions(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_transactions(engine: Engine) -> None:
    """Let SQLAlchemy own transactions (pysqlite's own handling breaks SAVEPOINT), take the write
    lock at BEGIN so concurrent writers queue instead of failing, and enforce foreign keys."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):  # pragma: no cover - trivial
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):  # pragma: no cover - trivial
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """Flask extension holding the engine and session factory in ``app.extensions``."""

    def init_app(self, app: Flask) -> None:
        engine = make_engine(app.config["DATABASE_URL"])
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
            g.db_session = self.state().factory()
        return g.db_session

    def new_session(self) -> Session:
        """A session of its own, for jobs and work that must not share the request's."""
        return self.state().factory()

    @staticmethod
    def _teardown(exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()


class _State:
    def __init__(self, engine: Engine, factory: sessionmaker[Session]):
        self.engine = engine
        self.factory = factory


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
    if session.in_nested_transaction():  # a SAVEPOINT released: the real commit is still to come
        return
    callbacks = session.info.pop("after_commit", [])
    for fn in callbacks:
        fn()


@event.listens_for(Session, "after_rollback")
def _drop_after_commit(session: Session) -> None:
    session.info.pop("after_commit", None)
