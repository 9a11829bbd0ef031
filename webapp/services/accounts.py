"""Portal logins: e-mail normalisation, Argon2 passwords, sign-in (throttled) and one-time set-password links."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import LoginThrottle, User, UserToken, utcnow
from .errors import ValidationFailed

_hasher = PasswordHasher()
# Verified against when the login is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

MIN_PASSWORD_LENGTH = 10
INVITATION_VALIDITY = timedelta(days=7)
# Password guessing: this many wrong passwords for one login from one address within the window
# lock that pair for LOGIN_LOCKOUT (other addresses, e.g. the real user's office, still sign in).
MAX_FAILED_LOGINS = 5
LOGIN_WINDOW = timedelta(minutes=15)
LOGIN_LOCKOUT = timedelta(minutes=15)


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Change the Argon2 cost for new hashes (the test suite's are cheap; production keeps the
    library's defaults). Existing hashes verify with the parameters stored in them."""
    global _hasher, _DUMMY_HASH
    _hasher = hasher
    _DUMMY_HASH = hasher.hash("not-a-real-password")


def normalize_email(raw: str) -> str:
    """Case-insensitive, Unicode-normalised form used for uniqueness and login."""
    try:
        result = validate_email((raw or "").strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationFailed(_l("Please enter a valid e-mail address."), field="email") from exc
    return result.normalized.lower()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def find_user_by_email(session: Session, email: str) -> User | None:
    if "\x00" in email:  # no login holds one, and PostgreSQL refuses it in a query
        return None
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The user for these credentials, or None — the caller shows one neutral message either way."""
    user = find_user_by_email(session, email or "")
    if not verify_password(user.password_hash if user else None, password or ""):
        return None
    if not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt: the user, or None; ``locked_until`` when throttled."""

    user: User | None
    locked_until: datetime | None = None


def _throttle_key(email: str, client: str) -> str:
    return hashlib.sha256(f"{(email or '').strip().lower()}|{client or ''}".encode()).hexdigest()


def sign_in(session: Session, email: str, password: str, client: str, now: datetime | None = None) -> SignIn:
    """Check the credentials unless this login and client address are locked after too many
    wrong passwords. A wrong password counts (the caller keeps that on the refusal); a right one
    clears the count — unless a second factor must follow, whose wrong codes count on it. The lock
    is the same for unknown logins, so it reveals no account."""
    now = now or utcnow()
    key = _throttle_key(email, client)
    locked_until = throttle_locked_until(session, key, now)
    if locked_until is not None:
        return SignIn(None, locked_until=locked_until)
    user = authenticate(session, email, password)
    if user is not None:
        if user.totp_enabled_at is None:
            clear_failures(session, email, client)
        return SignIn(user)
    return SignIn(None, locked_until=count_attempt(session, key, now))


def second_factor_locked_until(session: Session, email: str, client: str,
                               now: datetime | None = None) -> datetime | None:
    """The sign-in lock of this login and client, which wrong two-factor codes share."""
    return throttle_locked_until(session, _throttle_key(email, client), now or utcnow())


def count_failed_sign_in(session: Session, email: str, client: str, now: datetime | None = None) -> datetime | None:
    """Count a wrong second-factor code like a wrong password; the lock's end when it locked."""
    return count_attempt(session, _throttle_key(email, client), now or utcnow())


def clear_failures(session: Session, email: str, client: str) -> None:
    row = session.scalar(select(LoginThrottle).where(LoginThrottle.key == _throttle_key(email, client)))
    if row is not None:
        session.delete(row)
        session.flush()


def throttle_locked_until(session: Session, key: str, now: datetime) -> datetime | None:
    row = session.scalar(select(LoginThrottle).where(LoginThrottle.key == key))
    if row is not None and row.locked_until is not None and row.locked_until > now:
        return row.locked_until
    return None


def count_attempt(session: Session, key: str, now: datetime, *, limit: int = MAX_FAILED_LOGINS,
                  window: timedelta = LOGIN_WINDOW, lockout: timedelta = LOGIN_LOCKOUT) -> datetime | None:
    """Count one attempt under ``key`` (a hash); the ``limit``-th within ``window`` locks the key
    for ``lockout``. Returns the lock's end when locked."""
    return _count(session, key, now, limit, window, lockout).locked_until


def within_limit(session: Session, key: str, now: datetime, *, limit: int, window: timedelta) -> bool:
    """Count one attempt under ``key`` (a hash); True while it is one of the first ``limit`` in
    ``window``. Decided under the counter's row lock, so requests at the same moment cannot all
    pass (reset mails per address and per client)."""
    return _count(session, key, now, limit + 1, window, window).failures <= limit


def _count(session: Session, key: str, now: datetime, limit: int, window: timedelta,
           lockout: timedelta) -> LoginThrottle:
    if session.scalar(select(LoginThrottle.id).where(LoginThrottle.key == key)) is None:
        _new_throttle(session, key, now)
    # counted under a row lock, so that attempts sent at the same moment all count
    row = session.scalar(select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()
                         .execution_options(populate_existing=True))
    if row.window_started_at + window <= now or (row.locked_until and row.locked_until <= now):
        row.failures, row.window_started_at, row.locked_until = 0, now, None
    row.failures += 1
    if row.failures >= limit:
        row.locked_until = now + lockout
    session.flush()
    return row


def _new_throttle(session: Session, key: str, now: datetime) -> None:
    """The counter row, created once even when two attempts arrive at the same moment."""
    try:
        with session.begin_nested():
            session.add(LoginThrottle(key=key, failures=0, window_started_at=now))
    except IntegrityError:
        pass  # the other request created it


def throttle_key(*parts: str) -> str:
    """The stored key of a throttle: a hash, so the table holds no address in clear."""
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            _l("The password needs at least %(n)d characters.", n=MIN_PASSWORD_LENGTH), field="password"
        )


def set_password(session: Session, user: User, password: str) -> None:
    check_password_rules(password)
    user.password_hash = hash_password(password)
    user.password_set_at = utcnow()
    session.flush()


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    session: Session, user: User, purpose: str, validity: timedelta = INVITATION_VALIDITY
) -> str:
    """A new one-time token; earlier unused tokens of the same purpose stop working."""
    now = utcnow()
    for old in session.scalars(
        select(UserToken).where(
            UserToken.user_id == user.id, UserToken.purpose == purpose, UserToken.used_at.is_(None)
        )
    ):
        old.used_at = now
    token = secrets.token_urlsafe(32)
    session.add(UserToken(user_id=user.id, purpose=purpose, token_hash=_token_digest(token),
                          expires_at=now + validity))
    session.flush()
    return token


def token_user(session: Session, token: str, purpose: str, now: datetime | None = None) -> User | None:
    row = session.scalar(select(UserToken).where(UserToken.token_hash == _token_digest(token or "")))
    now = now or utcnow()
    if row is None or row.purpose != purpose or row.used_at is not None or row.expires_at <= now:
        return None
    return session.get(User, row.user_id)


def redeem_token(session: Session, token: str, purpose: str, password: str) -> User:
    """Set the password through a one-time link and use the link up. Under the token's row lock,
    so the same link sent twice at the same moment works once."""
    row = session.scalar(select(UserToken).where(UserToken.token_hash == _token_digest(token or ""))
                         .with_for_update().execution_options(populate_existing=True))
    if row is None or row.purpose != purpose or row.used_at is not None or row.expires_at <= utcnow():
        raise ValidationFailed(_l("This link is invalid, already used or expired. Ask for a new one."))
    user = session.get(User, row.user_id)
    set_password(session, user, password)
    row.used_at = utcnow()
    session.flush()
    return user


def set_locale(session: Session, user: User, locale: str) -> None:
    user.locale = locale
    session.flush()


# --- „Mein Konto“ -------------------------------------------------------------------------------

LANGUAGES = ("de", "en")


def update_profile(session: Session, user: User, display_name: str, locale: str) -> None:
    """The login's own name and language."""
    name = (display_name or "").strip()
    if not name:
        raise ValidationFailed(_l("Please enter your name."), field="display_name")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise ValidationFailed(_l("The name must not contain control characters."), field="display_name")
    if locale not in LANGUAGES:
        raise ValidationFailed(_l("Please choose a language."), field="locale")
    user.display_name = name[:200]
    user.locale = locale
    session.flush()


def change_password(session: Session, user: User, current: str, new: str) -> None:
    """A new password, with the current one; every session of the login ends (the caller opens a
    new one for the browser that changed it, so a copy of its cookie stops working too)."""
    from . import account_notices, audit, sessions

    if not verify_password(user.password_hash, current or ""):
        raise ValidationFailed(_l("The current password is not correct."), field="current_password")
    if verify_password(user.password_hash, new or ""):
        raise ValidationFailed(_l("The new password must differ from the current one."), field="password")
    set_password(session, user, new)
    sessions.end_all(session, user)
    audit.record(session, user, "account.password_changed", subject=user.email)
    account_notices.send(session, user, "password_changed")
    session.flush()
