"""Two-factor sign-in with time-based one-time codes (TOTP, RFC 6238, via pyotp) and ten
one-time recovery codes (stored hashed).

Set-up: ``begin_setup`` stores a new secret (kept while unconfirmed, so reloading the page keeps
the QR code that was scanned); ``confirm`` turns it on with a first code and returns the recovery
codes, shown once. ``disable`` needs the password. Configuration (``TWO_FACTOR_REQUIRED``) can make
it mandatory for the back office and/or every administrator.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ..models import RecoveryCode, Role, User, utcnow
from . import account_notices, accounts, audit
from .errors import DomainError, ValidationFailed

ISSUER = "UMS Portal"
RECOVERY_CODE_COUNT = 10
# Unambiguous characters (no 0/O, 1/I/L): 16 of them carry 80 random bits.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_RECOVERY_GROUPS, _GROUP = 4, 4
# The code of the previous and the next 30-second step is accepted too (clocks drift).
VALID_WINDOW = 1

# Values of TWO_FACTOR_REQUIRED (comma-separated): who must use two-factor sign-in.
BACK_OFFICE, ADMINS = "back_office", "admins"
_ADMIN_ROLES = {Role.IPFONIE_ADMIN, Role.CENTRAFLEX_ADMIN, Role.BACK_OFFICE, Role.ORDER_PERMISSION}


def is_enabled(user: User) -> bool:
    return user.totp_enabled_at is not None


def is_admin(user: User) -> bool:
    """An administrator: any role beyond using one's own UMS profile (tenant staff included)."""
    return user.tenant_id is not None or any(g.role in _ADMIN_ROLES for g in user.grants)


def parse_required(value: str | None) -> frozenset[str]:
    """The groups named in TWO_FACTOR_REQUIRED; unknown names are a configuration error."""
    groups = frozenset(part.strip() for part in (value or "").split(",") if part.strip())
    unknown = groups - {BACK_OFFICE, ADMINS}
    if unknown:
        raise ValueError(f"TWO_FACTOR_REQUIRED: unknown group(s) {', '.join(sorted(unknown))}; "
                         f"use {BACK_OFFICE!r} and/or {ADMINS!r}")
    return groups


def is_required(user: User, required: frozenset[str]) -> bool:
    if ADMINS in required and is_admin(user):
        return True
    return BACK_OFFICE in required and user.has_role(Role.BACK_OFFICE)


# --- set-up -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    secret: str
    uri: str
    qr_svg_data_uri: str

    @property
    def secret_grouped(self) -> str:
        return " ".join(self.secret[i:i + 4] for i in range(0, len(self.secret), 4))


def begin_setup(session: Session, user: User) -> Setup:
    """The secret to scan (a new one unless an unconfirmed one is waiting)."""
    if is_enabled(user):
        raise DomainError(_l("Two-factor sign-in is already on."))
    if not user.totp_secret:
        user.totp_secret = pyotp.random_base32()
        session.flush()
    uri = pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    qr = segno.make(uri, error="m")
    return Setup(user.totp_secret, uri, qr.svg_data_uri(scale=5, border=2, dark="#000", light="#fff"))


def confirm(session: Session, user: User, code: str, now: datetime | None = None) -> list[str]:
    """Turn two-factor sign-in on with a first valid code; the new recovery codes (shown once)."""
    if is_enabled(user):
        raise DomainError(_l("Two-factor sign-in is already on."))
    if not user.totp_secret or not _accept_totp(user, code, now or utcnow()):
        raise ValidationFailed(_l("This code is not correct. Enter the 6 digits your app shows now."),
                               field="code")
    user.totp_enabled_at = now or utcnow()
    codes = _new_recovery_codes(session, user)
    audit.record(session, user, "account.two_factor_on", subject=user.email)
    session.flush()
    return codes


def new_recovery_codes(session: Session, user: User, password: str) -> list[str]:
    """Replace the recovery codes (the old ones stop working); needs the password."""
    _require_password(user, password)
    if not is_enabled(user):
        raise DomainError(_l("Two-factor sign-in is off."))
    codes = _new_recovery_codes(session, user)
    audit.record(session, user, "account.recovery_codes_renewed", subject=user.email)
    return codes


def disable(session: Session, user: User, password: str, required: frozenset[str]) -> None:
    """Turn two-factor sign-in off; needs the password, and is refused where it is required."""
    if is_required(user, required):
        raise DomainError(_l("Two-factor sign-in is required for your login and cannot be turned off."))
    _require_password(user, password)
    _clear(session, user)
    audit.record(session, user, "account.two_factor_off", subject=user.email)
    account_notices.send(session, user, "two_factor_off")
    session.flush()


def reset_by_operator(session: Session, user: User) -> None:
    """Turn two-factor sign-in off for a login that lost its phone and its recovery codes (the
    operator has checked who asks); the login sets it up again at the next sign-in where required."""
    _clear(session, user)
    audit.record(session, None, "account.two_factor_reset", subject=user.email)
    account_notices.send(session, user, "two_factor_off")
    session.flush()


def _clear(session: Session, user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def remaining_recovery_codes(session: Session, user: User) -> int:
    return session.scalar(select(func.count(RecoveryCode.id)).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def _require_password(user: User, password: str) -> None:
    if not accounts.verify_password(user.password_hash, password or ""):
        raise ValidationFailed(_l("The password is not correct."), field="password")


def _new_recovery_codes(session: Session, user: User) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["-".join("".join(secrets.choice(_ALPHABET) for _ in range(_GROUP))
                      for _ in range(_RECOVERY_GROUPS)) for _ in range(RECOVERY_CODE_COUNT)]
    session.add_all(RecoveryCode(user_id=user.id, code_hash=_recovery_digest(c)) for c in codes)
    session.flush()
    return codes


def _recovery_digest(code: str) -> str:
    normalised = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(normalised.encode()).hexdigest()


# --- sign-in ------------------------------------------------------------------------------------


def _accept_totp(user: User, code: str, now: datetime) -> bool:
    """A TOTP code of the current step (± VALID_WINDOW) not older than the last one accepted."""
    digits = "".join(ch for ch in (code or "") if not ch.isspace())
    if len(digits) != 6 or not digits.isdigit() or not user.totp_secret:
        return False
    otp = pyotp.TOTP(user.totp_secret)
    current = otp.timecode(now)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if user.totp_last_step is not None and step <= user.totp_last_step:
            continue
        if hmac.compare_digest(otp.generate_otp(step), digits):
            user.totp_last_step = step
            return True
    return False


@dataclass(frozen=True)
class SecondFactor:
    ok: bool
    locked_until: datetime | None = None
    used_recovery_code: bool = False
    recovery_codes_left: int = 0


def verify_sign_in(session: Session, user: User, code: str, client: str,
                   now: datetime | None = None) -> SecondFactor:
    """Check the second step of a sign-in: a TOTP code or an unused recovery code. A wrong code
    counts toward the sign-in throttle of this login and client (the caller keeps the count)."""
    now = now or utcnow()
    locked = accounts.second_factor_locked_until(session, user.email, client, now)
    if locked is not None:
        return SecondFactor(False, locked_until=locked)
    # under the login's row lock: one code, sent twice at the same moment, still counts once
    session.refresh(user, with_for_update=True)
    if _accept_totp(user, code, now):
        accounts.clear_failures(session, user.email, client)
        session.flush()
        return SecondFactor(True)
    recovery = session.scalar(select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _recovery_digest(code or ""),
        RecoveryCode.used_at.is_(None)).with_for_update())
    if recovery is not None:
        recovery.used_at = now
        accounts.clear_failures(session, user.email, client)
        audit.record(session, user, "account.recovery_code_used", subject=user.email)
        session.flush()
        return SecondFactor(True, used_recovery_code=True,
                            recovery_codes_left=remaining_recovery_codes(session, user))
    return SecondFactor(False, locked_until=accounts.count_failed_sign_in(session, user.email, client, now))
