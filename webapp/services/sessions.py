"""Server-side sign-in sessions: one row per signed-in browser, so that sessions can be ended.

The session cookie (signed by Flask) carries a random session id; the database keeps only its
SHA-256 with the device, the client address and the times. A request counts as signed in only
while that row is open and younger than the session lifetime, so ending the row — sign-out, a
password change or reset, „überall abmelden“ — also ends every copy of the cookie.

Checking costs one indexed lookup per request (joined with the user); ``last_used_at`` is written
at most once a minute, so reading pages does not write on every request.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.orm import Session

from ..models import User, UserSession, utcnow

# The key of the session id in Flask's session cookie.
COOKIE_KEY = "sid"
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Ended and expired rows are kept this long (the account page no longer shows them), then purged.
KEEP_ENDED = timedelta(days=30)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@lru_cache(maxsize=256)
def describe_device(user_agent: str) -> str:
    """„Firefox on Windows“-style label from a User-Agent header (empty when unknown)."""
    from ua_parser import parse

    result = parse(user_agent or "")
    browser = result.user_agent.family if result.user_agent else ""
    system = result.os.family if result.os else ""
    if browser and system and system != "Other":
        return f"{browser} · {system}"[:100]
    return (browser or system or "")[:100]


def start(session: Session, user: User, *, user_agent: str, client_address: str,
          now: datetime | None = None) -> str:
    """Open a session row for a sign-in and return the raw id for the cookie."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(UserSession(
        user_id=user.id, token_hash=_digest(token), device=describe_device((user_agent or "")[:300]),
        user_agent=(user_agent or "")[:300], client_address=(client_address or "")[:64],
        created_at=now, last_used_at=now))
    # the user's rows that ended long ago go now: the table stays as small as the active sessions
    session.execute(delete(UserSession).where(
        UserSession.user_id == user.id,
        or_(UserSession.ended_at < now - KEEP_ENDED, UserSession.created_at < now - KEEP_ENDED)))
    session.flush()
    return token


@dataclass
class Along:
    """One more row, by primary key and with its loader options, fetched in the session check's own
    statement: the main object of a page then costs no round trip of its own (each one costs the
    worker more than its SQL, see docs/performance.md). It is only loaded here (into ``found``, None
    when there is no such row); whoever uses it still checks access to it."""

    entity: type
    id: int
    options: tuple = ()
    found: object | None = None


def user_for(session: Session, user_id: int, token: str | None, lifetime: timedelta,
             now: datetime | None = None, *, options: tuple = (),
             touch: Callable[[int, datetime], None] | None = None, along: Along | None = None) -> User | None:
    """The user of an open, unexpired session with this id, or None (signed out).

    ``last_used_at`` goes with the request's own transaction, or through ``touch(row_id, now)``
    where that transaction only reads (a GET on SQLite must not upgrade to the write lock).
    ``options`` load what every request reads of the user (grants, tenant) in the same query, and
    ``along`` one more row (see ``Along``)."""
    if not token or not isinstance(token, str):
        return None
    now = now or utcnow()
    params = {"token_hash": _digest(token)}
    if along is not None:
        params["along_id"] = along.id
    statement = _session_and_user(options, along.entity if along else None, along.options if along else ())
    row = session.execute(statement, params).unique().first()
    if row is None:
        return None
    record, user = row[0], row[1]
    if (record.user_id != user_id or record.ended_at is not None or record.created_at + lifetime <= now
            or not user.active):  # a deactivated login is signed out at once
        return None
    if along is not None:
        along.found = row[2]
    if now - record.last_used_at >= LAST_USED_RESOLUTION:
        if touch is None:
            record.last_used_at = now
        else:
            touch(record.id, now)
    return user


@lru_cache(maxsize=32)
def _session_and_user(options: tuple, along: type | None = None, along_options: tuple = ()):
    """The statement of every signed-in request, built once: building it and its cache key again
    for each request cost about a tenth of a millisecond."""
    entities = (UserSession, User) if along is None else (UserSession, User, along)
    statement = select(*entities).join(User, User.id == UserSession.user_id)
    if along is not None:
        statement = statement.outerjoin(along, along.id == bindparam("along_id"))
    return statement.where(UserSession.token_hash == bindparam("token_hash")).options(*options, *along_options)


def mark_used(session: Session, record_id: int, now: datetime) -> None:
    session.execute(update(UserSession).where(UserSession.id == record_id).values(last_used_at=now))


def end(session: Session, token: str | None, now: datetime | None = None) -> None:
    """End the session with this id (sign-out)."""
    if not token:
        return
    session.execute(update(UserSession).where(
        UserSession.token_hash == _digest(token), UserSession.ended_at.is_(None)
    ).values(ended_at=now or utcnow()))


def end_all(session: Session, user: User, *, except_token: str | None = None,
            now: datetime | None = None) -> int:
    """End every open session of the user (but the one with ``except_token``); how many ended."""
    query = update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    if except_token:
        query = query.where(UserSession.token_hash != _digest(except_token))
    return session.execute(query.values(ended_at=now or utcnow())).rowcount


def end_one(session: Session, user: User, session_id: int, now: datetime | None = None) -> bool:
    """End one of the user's own sessions by its row id; False when there is no such open one."""
    return bool(session.execute(update(UserSession).where(
        UserSession.id == session_id, UserSession.user_id == user.id, UserSession.ended_at.is_(None)
    ).values(ended_at=now or utcnow())).rowcount)


@dataclass(frozen=True)
class ActiveSession:
    id: int
    device: str
    client_address: str
    created_at: datetime
    last_used_at: datetime
    current: bool


def active(session: Session, user: User, current_token: str | None, lifetime: timedelta,
           now: datetime | None = None) -> list[ActiveSession]:
    """The user's open sessions, this browser's first, then by last use."""
    now = now or utcnow()
    current_hash = _digest(current_token) if current_token else None
    rows = session.scalars(select(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None),
        UserSession.created_at > now - lifetime,
    ).order_by(UserSession.last_used_at.desc(), UserSession.id.desc()))
    found = [ActiveSession(r.id, r.device, r.client_address, r.created_at, r.last_used_at,
                           r.token_hash == current_hash) for r in rows]
    return sorted(found, key=lambda s: not s.current)
