"""Voicemail settings, the number it answers on, and the phone PIN with its lock."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import (
    PhoneNumber,
    Service,
    ServiceAssignment,
    UmsProfile,
    User,
    VoicemailMode,
    VoicemailSettings,
    utcnow,
)
from .. import audit, mail, phone, platform
from ..accounts import hash_password, verify_password
from ..deposits import normalize_number  # noqa: F401  (re-exported by the package)
from ..errors import DomainError, NotFound, ValidationFailed

PIN_MAX_ATTEMPTS = 3
PIN_LOCK = timedelta(minutes=15)

MODE_LABELS = {
    VoicemailMode.RECORD: _l("Ansage mit Aufzeichnung"),
    VoicemailMode.ANNOUNCE_ONLY: _l("Nur Ansage"),
}


class VoicemailUnavailable(DomainError):
    """A deposit for a number whose voicemail is switched off or only announces (409)."""

    status = 409


# --- the number ------------------------------------------------------------------------------


def assignment(session: Session, profile: UmsProfile) -> ServiceAssignment | None:
    from ..numbers import assignment_of

    return assignment_of(session, profile, Service.VOICEMAIL)


def number_of(session: Session, profile: UmsProfile) -> str | None:
    found = assignment(session, profile)
    return found.number.e164 if found and found.number else None


def profile_for_number(session: Session, e164: str) -> UmsProfile | None:
    """The profile whose voicemail currently answers on ``e164``."""
    return session.scalar(
        select(UmsProfile)
        .join(ServiceAssignment, ServiceAssignment.profile_id == UmsProfile.id)
        .join(PhoneNumber, PhoneNumber.id == ServiceAssignment.number_id)
        .where(PhoneNumber.e164 == e164, ServiceAssignment.service == Service.VOICEMAIL)
    )


# --- settings --------------------------------------------------------------------------------


def settings_of(session: Session, profile: UmsProfile, *, for_update: bool = False) -> VoicemailSettings:
    """The profile's settings. Without a row yet: the defaults, stored only ``for_update``."""
    found = session.get(VoicemailSettings, profile.id)
    if found is None:
        found = VoicemailSettings(
            profile_id=profile.id, enabled=True, answer_immediately=False, answer_after_seconds=20,
            mode=VoicemailMode.RECORD, max_message_seconds=120, notify_email=False, attach_audio=False,
            delete_after_send=False, pin_failed_attempts=0,
        )
        if for_update:
            session.add(found)
            session.flush()
    return found


@dataclass
class SettingsInput:
    enabled: bool
    answer_immediately: bool
    answer_after_seconds: int
    mode: VoicemailMode
    max_message_seconds: int
    notify_email: bool
    notify_address: str | None
    attach_audio: bool
    delete_after_send: bool


def update_settings(session: Session, user: User, profile: UmsProfile, data: SettingsInput) -> VoicemailSettings:
    if not 5 <= data.answer_after_seconds <= 60:
        raise ValidationFailed(_l("Choose between 5 and 60 seconds."), field="answer_after_seconds")
    if not 30 <= data.max_message_seconds <= 300:
        raise ValidationFailed(_l("Choose between 30 and 300 seconds."), field="max_message_seconds")
    if data.delete_after_send and not (data.notify_email and data.attach_audio):
        raise ValidationFailed(
            _l("„Delete after sending“ needs the e-mail notification with the audio attached."),
            field="delete_after_send",
        )
    settings = settings_of(session, profile, for_update=True)
    for name, value in data.__dict__.items():
        setattr(settings, name, value)
    session.flush()
    audit.record(session, user, "voicemail.settings_changed", customer_id=profile.customer_id,
                 profile_id=profile.id, subject=profile.email)
    _emit_settings(session, profile, settings)
    return settings


def _emit_settings(session: Session, profile: UmsProfile, settings: VoicemailSettings) -> None:
    number = number_of(session, profile)
    if number is None:
        return
    platform.emit(
        session, "voicemail.settings_changed", profile_id=profile.id, number=number,
        enabled=settings.enabled,
        answer_after_seconds=0 if settings.answer_immediately else settings.answer_after_seconds,
        mode=settings.mode.value, max_message_seconds=settings.max_message_seconds,
        pin_set=settings.pin_hash is not None,
    )


def notify_address(settings: VoicemailSettings, profile: UmsProfile) -> str:
    return settings.notify_address or profile.email


# --- PIN -------------------------------------------------------------------------------------


def pin_problem(pin: str, number: str | None = None):
    """Why ``pin`` is not allowed (a message), or None when it is fine."""
    if not re.fullmatch(r"[0-9]{6,10}", pin or ""):  # \d would take digits no keypad has (３, ٣)
        return _l("The PIN must have 6 to 10 digits and nothing else.")
    if len(set(pin)) == 1:
        return _l("The PIN must not repeat one digit.")
    steps = {int(b) - int(a) for a, b in zip(pin, pin[1:], strict=False)}
    if steps in ({1}, {-1}):
        return _l("The PIN must not be a run of digits like 123456 or 987654.")
    for period in (2, 3):
        if len(pin) % period == 0 and pin == pin[:period] * (len(pin) // period):
            return _l("The PIN must not repeat a short pattern like 121212.")
    if number:
        digits = number.lstrip("+")
        national = "0" + digits[2:] if digits.startswith("49") else digits
        if pin in digits or pin in national:
            return _l("The PIN must not be part of your phone number.")
    return None


def set_pin(session: Session, user: User, profile: UmsProfile, pin: str) -> None:
    problem = pin_problem(pin, number_of(session, profile))
    if problem:
        raise ValidationFailed(problem, field="pin")
    settings = settings_of(session, profile, for_update=True)
    settings.pin_hash = hash_password(pin)
    settings.pin_set_at = utcnow()
    settings.pin_failed_attempts = 0
    settings.pin_locked_until = None
    session.flush()
    audit.record(session, user, "voicemail.pin_changed", customer_id=profile.customer_id,
                 profile_id=profile.id, subject=profile.email)
    _emit_settings(session, profile, settings)


def pin_locked(settings: VoicemailSettings, now: datetime | None = None) -> bool:
    return bool(settings.pin_locked_until and settings.pin_locked_until > (now or utcnow()))


@dataclass(frozen=True)
class PinResult:
    ok: bool
    locked_until: datetime | None = None
    attempts_left: int = 0
    reason: str = ""


def check_pin(session: Session, e164: str, pin: str, *, now: datetime | None = None) -> PinResult:
    """The platform asks whether ``pin`` opens the voicemail on ``e164`` (phone access).

    Three wrong PINs in a row lock phone access for 15 minutes and e-mail the owner.
    """
    now = now or utcnow()
    profile = profile_for_number(session, e164)
    if profile is None:
        raise NotFound(_l("No voicemail answers on this number."))
    # Lock the row so concurrent tries count one after another.
    settings = session.scalar(
        select(VoicemailSettings).where(VoicemailSettings.profile_id == profile.id).with_for_update()
    ) or settings_of(session, profile)
    if settings.pin_hash is None:
        return PinResult(False, reason="no_pin")
    if settings.pin_locked_until and settings.pin_locked_until > now:
        return PinResult(False, locked_until=settings.pin_locked_until, reason="locked")
    if verify_password(settings.pin_hash, pin or ""):
        settings.pin_failed_attempts = 0
        settings.pin_locked_until = None
        session.flush()
        return PinResult(True, attempts_left=PIN_MAX_ATTEMPTS)
    settings.pin_failed_attempts += 1
    if settings.pin_failed_attempts >= PIN_MAX_ATTEMPTS:
        settings.pin_failed_attempts = 0
        settings.pin_locked_until = now + PIN_LOCK
        session.flush()
        audit.record(session, None, "voicemail.pin_locked", customer_id=profile.customer_id,
                     profile_id=profile.id, subject=profile.email)
        mail.queue(
            session, profile.email, "voicemail_pin_locked",
            subject=_l("Voicemail: phone access locked after wrong PINs"), locale=profile.language,
            profile=profile, number=phone.numbers_by_e164(session, [e164]).get(e164, e164),
            locked_until=settings.pin_locked_until,
            minutes=int(PIN_LOCK.total_seconds() // 60),
        )
        return PinResult(False, locked_until=settings.pin_locked_until, reason="locked")
    session.flush()
    return PinResult(False, attempts_left=PIN_MAX_ATTEMPTS - settings.pin_failed_attempts, reason="wrong")


