"""Changing a profile's e-mail address by code (domain.md §3).

„Code anfordern, um die E-Mail-Adresse zu ändern“ mails a 6-digit code to the *current* address;
„Code eingeben, um die E-Mail-Adresse zu ändern“ takes it; then a new address that is free on the
platform replaces the old one, for the profile and for the UMS user's login. Codes are stored as
a keyed hash, expire after 15 minutes, work once, and 5 wrong tries void them.

A wrong try must be counted even though the request answers 422 (which rolls back): the service
asks ``db.keep_on_refusal`` so the request commits that refusal.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db import keep_on_refusal
from ..models import EmailChangeCode, UmsProfile, User, utcnow
from . import accounts, audit, authz, mail, platform
from .errors import ValidationFailed
from .profiles import email_in_use, email_taken_error

CODE_VALIDITY = timedelta(minutes=15)
MAX_ATTEMPTS = 5
# New codes per profile and hour: 5 wrong tries per code must not become unlimited tries by
# requesting code after code, nor flood the person's mailbox.
MAX_REQUESTS = 5
REQUEST_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class ChangeState:
    """Where the change stands: ``idle``, ``code_sent`` (enter the code) or ``verified``."""

    step: str
    code: EmailChangeCode | None = None


def _digest(profile_id: int, code: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return "hmac-sha256$" + hmac.new(key, f"{profile_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _open_code(session: Session, profile: UmsProfile) -> EmailChangeCode | None:
    """The newest code that is neither used, voided nor expired."""
    now = utcnow()
    code = session.scalar(
        select(EmailChangeCode).where(
            EmailChangeCode.profile_id == profile.id,
            EmailChangeCode.used_at.is_(None),
            EmailChangeCode.voided_at.is_(None),
        ).order_by(EmailChangeCode.id.desc()).limit(1)
    )
    if code is None:
        return None
    deadline = (code.verified_at + CODE_VALIDITY) if code.verified_at else code.expires_at
    return code if deadline > now else None


def state(session: Session, profile: UmsProfile) -> ChangeState:
    code = _open_code(session, profile)
    if code is None:
        return ChangeState("idle")
    return ChangeState("verified" if code.verified_at else "code_sent", code)


def _void_open_codes(session: Session, profile: UmsProfile) -> None:
    session.execute(
        update(EmailChangeCode)
        .where(EmailChangeCode.profile_id == profile.id, EmailChangeCode.used_at.is_(None),
               EmailChangeCode.voided_at.is_(None))
        .values(voided_at=utcnow())
    )


def _subject(profile: UmsProfile) -> str:
    return f"{profile.first_name} {profile.last_name} <{profile.email_normalized}>"


def request_code(session: Session, actor: User, profile: UmsProfile) -> None:
    """Mail a new code to the current address; earlier codes stop working."""
    authz.can_manage_ums(session, actor, profile.customer).require()
    now = utcnow()
    recent = session.scalar(select(func.count()).select_from(EmailChangeCode).where(
        EmailChangeCode.profile_id == profile.id, EmailChangeCode.created_at > now - REQUEST_WINDOW))
    if recent >= MAX_REQUESTS:
        raise ValidationFailed(_l("%(n)d codes were sent for this profile within the last hour; no more can be requested for now. Please use the newest code from the e-mail, or try again in an hour.",
                                  n=MAX_REQUESTS), field="request")
    _void_open_codes(session, profile)
    code = f"{secrets.randbelow(1_000_000):06d}"
    session.add(EmailChangeCode(profile_id=profile.id, code_hash=_digest(profile.id, code), created_at=now,
                                expires_at=now + CODE_VALIDITY, requested_by_id=actor.id))
    mail.queue(session, profile.email_normalized, "email_change_code",
               subject=_l("Your code to change the e-mail address"), locale=profile.language,
               profile=profile, code=code, minutes=int(CODE_VALIDITY.total_seconds() // 60), requester=actor)
    audit.record(session, actor, "email_change.code_requested", customer_id=profile.customer_id,
                 profile_id=profile.id, subject=_subject(profile))
    session.flush()


def cancel(session: Session, actor: User, profile: UmsProfile) -> None:
    authz.can_manage_ums(session, actor, profile.customer).require()
    _void_open_codes(session, profile)
    session.flush()


def verify_code(session: Session, actor: User, profile: UmsProfile, code: str) -> EmailChangeCode:
    """Check the code; a wrong one counts (kept despite the refusal), the fifth voids it."""
    authz.can_manage_ums(session, actor, profile.customer).require()
    current = _open_code(session, profile)
    if current is None or current.verified_at is not None:
        raise ValidationFailed(_l("There is no valid code for this profile (codes expire after 15 minutes). Please request a new code."),
                               field="code")
    entered = "".join((code or "").split())
    if hmac.compare_digest(current.code_hash, _digest(profile.id, entered)):
        current.verified_at = utcnow()
        session.flush()
        return current
    current.failed_attempts += 1
    left = MAX_ATTEMPTS - current.failed_attempts
    keep_on_refusal(session)
    if left <= 0:
        current.voided_at = utcnow()
        audit.record(session, actor, "email_change.code_voided", customer_id=profile.customer_id,
                     profile_id=profile.id, subject=_subject(profile), attempts=current.failed_attempts)
        session.flush()
        raise ValidationFailed(_l("The code was entered wrongly %(n)d times and no longer works. Please request a new code.",
                                  n=MAX_ATTEMPTS), field="code")
    session.flush()
    raise ValidationFailed(_l("This code is not correct. %(left)d more tries, then the code no longer works.",
                              left=left), field="code")


def change_email(session: Session, actor: User, profile: UmsProfile, new_email: str) -> str:
    """After a verified code: the new address for the profile and the login; notices to both."""
    authz.can_manage_ums(session, actor, profile.customer).require()
    current = _open_code(session, profile)
    if current is None or current.verified_at is None:
        raise ValidationFailed(_l("Please enter the code first, or request a new one."), field="email")
    normalized = accounts.normalize_email(new_email)
    old = profile.email_normalized
    if normalized == old:
        raise ValidationFailed(_l("This is already the profile's e-mail address."), field="email")
    if email_in_use(session, normalized, except_user_id=profile.user_id):
        raise email_taken_error(normalized)
    try:
        with session.begin_nested():
            profile.email = (new_email or "").strip()
            profile.email_normalized = normalized
            profile.user.email = normalized
            session.flush()
    except IntegrityError as exc:  # a parallel request took the address
        raise email_taken_error(normalized) from exc
    current.used_at = utcnow()
    session.flush()
    for recipient, template in ((old, "email_change_notice_old"), (normalized, "email_change_notice_new")):
        mail.queue(session, recipient, template, subject=_l("The e-mail address of your UMS access was changed"),
                   locale=profile.language, profile=profile, old_email=old, new_email=normalized)
    audit.record(session, actor, "email_change.changed", customer_id=profile.customer_id,
                 profile_id=profile.id, subject=_subject(profile), old=old, new=normalized)
    platform.emit(session, "profile.email_changed", profile_id=profile.id, old=old, new=normalized)
    session.flush()
    return normalized
