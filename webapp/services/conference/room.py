"""The dial-in room of a profile: its number, the moderator and participant PINs, the settings.

PINs: the platform needs them in clear text (its bridge compares what callers type) and the owner
sees them again, so they cannot be hashed. Each PIN is stored encrypted with Fernet
(AES-128-CBC + HMAC-SHA256) under a key derived from ``SECRET_KEY`` with HKDF; a database dump
alone does not reveal them. Next to it a keyed HMAC-SHA256 digest (second HKDF key) makes every
PIN unique across all rooms as a database constraint: the platform's bridge keeps one PIN table
for all rooms. The PINs never travel in the provisioning events (the outbox is a table too): an
event says that they changed and the platform reads them over the signed API.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

import phonenumbers
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...db import keep_on_refusal
from ...models import (
    AuditEntry,
    ConferencePin,
    ConferenceRoom,
    PhoneNumber,
    PinRole,
    Service,
    ServiceAssignment,
    UmsProfile,
    User,
    utcnow,
)
from .. import audit, phone, platform
from ..errors import NotFound, ValidationFailed
from ..voicemail import pin_problem

GENERATED_PIN_LENGTH = 8
TAKEN_REFUSALS_PER_HOUR = 5  # typed PINs that collide: a bounded oracle, see ``set_pin``
ROLE_LABELS = {PinRole.MODERATOR: _l("Moderator PIN"), PinRole.PARTICIPANT: _l("Participant PIN")}
LANGUAGE_LABELS = {"de": _l("German"), "en": _l("English")}


# --- the number ------------------------------------------------------------------------------


def number_of(session: Session, profile: UmsProfile) -> PhoneNumber | None:
    from ..numbers import assignment_of

    found = assignment_of(session, profile, Service.CONFERENCE)
    return found.number if found else None


def profile_for_number(session: Session, e164: str) -> UmsProfile | None:
    """The profile whose room currently answers on ``e164``."""
    return session.scalar(
        select(UmsProfile)
        .join(ServiceAssignment, ServiceAssignment.profile_id == UmsProfile.id)
        .join(PhoneNumber, PhoneNumber.id == ServiceAssignment.number_id)
        .where(PhoneNumber.e164 == e164, ServiceAssignment.service == Service.CONFERENCE)
    )


@dataclass(frozen=True)
class DialIn:
    e164: str
    national: str
    international: str


def dial_in(number: PhoneNumber | None) -> DialIn | None:
    if number is None:
        return None
    parsed = phonenumbers.parse(number.e164, "DE")
    international = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return DialIn(number.e164, phone.display(number), international)


# --- PIN secrecy -----------------------------------------------------------------------------


def _derived(info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"ums-portal-conference", info=info).derive(
        current_app.config["SECRET_KEY"].encode())


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derived(b"pin-encryption")))


def digest(pin: str) -> str:
    return hmac.new(_derived(b"pin-digest"), pin.encode(), hashlib.sha256).hexdigest()


def encrypt(pin: str) -> str:
    return _fernet().encrypt(pin.encode()).decode()


def decrypt(token: str) -> str | None:
    """The PIN, or None when it cannot be read (SECRET_KEY changed): the owner regenerates it."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        return None


# --- room ------------------------------------------------------------------------------------


def room_of(session: Session, profile: UmsProfile) -> ConferenceRoom | None:
    return session.get(ConferenceRoom, profile.id)


def ensure_room(session: Session, user: User | None, profile: UmsProfile) -> ConferenceRoom | None:
    """The room, created with two fresh PINs the first time the profile has a Konferenz number."""
    room = room_of(session, profile)
    if room is not None:
        return room
    number = number_of(session, profile)
    if number is None:
        return None
    try:
        with session.begin_nested():
            room = ConferenceRoom(profile_id=profile.id, max_participants=10, wait_for_moderator=True,
                                  announce_join_leave=False, entry_exit_tones=True, mute_on_entry=False,
                                  end_when_moderator_leaves=False, allow_recording=False,
                                  language=profile.language if profile.language in LANGUAGE_LABELS else "de",
                                  locked=False)
            session.add(room)
            session.flush()
            moderator = _unused_pin(session, number.e164)
            participant = _unused_pin(session, number.e164, avoid=moderator)
            for role, pin in ((PinRole.MODERATOR, moderator), (PinRole.PARTICIPANT, participant)):
                session.add(ConferencePin(profile_id=profile.id, role=role, digest=digest(pin), secret=encrypt(pin)))
            session.flush()
    except IntegrityError:  # another request created it at the same moment
        room = room_of(session, profile)
        if room is None:
            raise
        return room
    audit.record(session, user, "conference.room_created", customer_id=profile.customer_id,
                 profile_id=profile.id, subject=profile.email)
    emit_room(session, profile, room, changed="room_created")
    return room


def require_room(session: Session, user: User | None, profile: UmsProfile) -> ConferenceRoom:
    room = ensure_room(session, user, profile)
    if room is None:
        raise NotFound(_l("No conference number is assigned yet. Your administrator assigns one."))
    return room


def pins_of(session: Session, profile: UmsProfile) -> dict[PinRole, ConferencePin]:
    return {p.role: p for p in session.scalars(select(ConferencePin).where(ConferencePin.profile_id == profile.id))}


def clear_pins(session: Session, profile: UmsProfile) -> dict[PinRole, str | None]:
    return {role: decrypt(p.secret) for role, p in pins_of(session, profile).items()}


def _taken(session: Session, pin: str) -> bool:
    return session.scalar(select(ConferencePin.id).where(ConferencePin.digest == digest(pin))) is not None


def _unused_pin(session: Session, e164: str | None, avoid: str | None = None) -> str:
    """A PIN from the operating system's secure source that passes the PIN rules and is free."""
    while True:
        pin = "".join(str(secrets.randbelow(10)) for _ in range(GENERATED_PIN_LENGTH))
        if pin != avoid and pin_problem(pin, e164) is None and not _taken(session, pin):
            return pin


def _store_pin(session: Session, user: User, profile: UmsProfile, role: PinRole, pin: str, how: str) -> None:
    row = pins_of(session, profile)[role]
    try:
        with session.begin_nested():
            row.digest, row.secret, row.changed_at = digest(pin), encrypt(pin), utcnow()
            session.flush()
    except IntegrityError as exc:  # another room took the same PIN at this very moment
        session.refresh(row)
        raise ValidationFailed(_l("This PIN is already in use in another conference room. Please choose another one."),
                               field="pin") from exc
    audit.record(session, user, "conference.pin_changed", customer_id=profile.customer_id,
                 profile_id=profile.id, subject=profile.email, role=role.value, how=how)
    emit_room(session, profile, room_of(session, profile), changed=f"{role.value}_pin")


def regenerate_pin(session: Session, user: User, profile: UmsProfile, role: PinRole) -> str:
    """A new PIN for ``role`` at once; the old one stops working when the platform has the event."""
    require_room(session, user, profile)
    number = number_of(session, profile)
    other = clear_pins(session, profile).get(_other(role))
    pin = _unused_pin(session, number.e164 if number else None, avoid=other)
    _store_pin(session, user, profile, role, pin, "generated")
    return pin


def set_pin(session: Session, user: User, profile: UmsProfile, role: PinRole, pin: str) -> None:
    """A PIN the owner typed: the voicemail PIN rules, different from the other PIN, and free.

    A "taken" answer tells that some room uses the PIN; such refusals are kept (committed even
    though the request is refused) and limited per room and hour, so they cannot be used to
    search for the PINs of other rooms."""
    require_room(session, user, profile)
    number = number_of(session, profile)
    problem = pin_problem(pin, number.e164 if number else None)
    if problem:
        raise ValidationFailed(problem, field="pin")
    pins = clear_pins(session, profile)
    if pins.get(role) == pin:
        raise ValidationFailed(_l("This is already the current PIN."), field="pin")
    if pins.get(_other(role)) == pin:
        raise ValidationFailed(_l("The moderator PIN and the participant PIN must be different."), field="pin")
    since = utcnow() - timedelta(hours=1)
    refusals = session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.profile_id == profile.id, AuditEntry.action == "conference.pin_taken", AuditEntry.at >= since))
    if refusals >= TAKEN_REFUSALS_PER_HOUR:
        raise ValidationFailed(_l("Too many PINs you typed were already in use. Please use a generated PIN "
                                  "or try again in an hour."), field="pin")
    if _taken(session, pin):
        audit.record(session, user, "conference.pin_taken", customer_id=profile.customer_id,
                     profile_id=profile.id, subject=profile.email, role=role.value)
        session.flush()
        keep_on_refusal(session)
        raise ValidationFailed(_l("This PIN is already in use in another conference room. Please choose another one."),
                               field="pin")
    _store_pin(session, user, profile, role, pin, "typed")


def _other(role: PinRole) -> PinRole:
    return PinRole.PARTICIPANT if role == PinRole.MODERATOR else PinRole.MODERATOR


# --- settings --------------------------------------------------------------------------------


@dataclass
class SettingsInput:
    max_participants: int
    wait_for_moderator: bool
    announce_join_leave: bool
    entry_exit_tones: bool
    mute_on_entry: bool
    end_when_moderator_leaves: bool
    allow_recording: bool
    language: str


def update_settings(session: Session, user: User, profile: UmsProfile, data: SettingsInput) -> ConferenceRoom:
    if not isinstance(data.max_participants, int) or not 2 <= data.max_participants <= 50:
        raise ValidationFailed(_l("Choose between 2 and 50 participants."), field="max_participants")
    if data.language not in LANGUAGE_LABELS:
        raise ValidationFailed(_l("Choose German or English."), field="language")
    room = require_room(session, user, profile)
    for name, value in data.__dict__.items():
        setattr(room, name, value)
    session.flush()
    audit.record(session, user, "conference.settings_changed", customer_id=profile.customer_id,
                 profile_id=profile.id, subject=profile.email)
    emit_room(session, profile, room, changed="settings")
    return room


def settings_payload(room: ConferenceRoom) -> dict:
    return {name: getattr(room, name) for name in SettingsInput.__dataclass_fields__} | {"locked": room.locked}


def emit_room(session: Session, profile: UmsProfile, room: ConferenceRoom | None, *, changed: str) -> None:
    """Tell the platform the room changed: settings travel in the event, PINs are read over the API."""
    number = number_of(session, profile)
    if number is None or room is None:
        return
    platform.emit(session, "conference.room_changed", profile_id=profile.id, number=number.e164,
                  changed=changed, settings=settings_payload(room))


def room_for_platform(session: Session, e164: str) -> dict:
    """What the platform reads after a ``conference.room_changed`` event (signed API)."""
    profile = profile_for_number(session, e164)
    room = room_of(session, profile) if profile else None
    if room is None:
        raise NotFound(_l("No conference room answers on this number."))
    pins = clear_pins(session, profile)
    return {"number": e164, "moderator_pin": pins.get(PinRole.MODERATOR),
            "participant_pin": pins.get(PinRole.PARTICIPANT), "settings": settings_payload(room)}
