"""Portal logins: e-mail normalisation, Argon2 passwords, sign-in and one-time set-password links."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import User, UserToken, utcnow
from .errors import ValidationFailed

_hasher = PasswordHasher()
# Verified against when the login is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

MIN_PASSWORD_LENGTH = 10
INVITATION_VALIDITY = timedelta(days=7)


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
    user = token_user(session, token, purpose)
    if user is None:
        raise ValidationFailed(_l("This link is invalid, already used or expired. Ask for a new one."))
    set_password(session, user, password)
    row = session.scalar(select(UserToken).where(UserToken.token_hash == _token_digest(token)))
    row.used_at = utcnow()
    session.flush()
    return user


def set_locale(session: Session, user: User, locale: str) -> None:
    user.locale = locale
    session.flush()
