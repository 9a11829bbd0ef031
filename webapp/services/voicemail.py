"""Anrufbeantworter (voicemail) of a UMS profile: settings and phone PIN, greetings, messages,
deposits from the telephony platform and the e-mail notification.

The voicemail answers on the number of the profile's ``Service.VOICEMAIL`` assignment. Audio is
kept in the media storage (``services.storage``) as 8 kHz mono 16-bit WAV; the browser copy is
made on first play and cached. Functions take the session and acting user explicitly and only
flush; the request (or job) commits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import phonenumbers
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import false, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db import after_commit
from ..models import (
    GreetingKind,
    GreetingSource,
    GreetingStatus,
    PhoneNumber,
    Service,
    ServiceAssignment,
    UmsProfile,
    User,
    VoicemailGreeting,
    VoicemailMessage,
    VoicemailMode,
    VoicemailSettings,
    utcnow,
)
from . import audio, audit, mail, phone, platform, storage, tts
from .accounts import hash_password, verify_password
from .errors import DomainError, NotFound, ValidationFailed

PAGE_SIZE = 20
UNDO_SECONDS = 300
PIN_MAX_ATTEMPTS = 3
PIN_LOCK = timedelta(minutes=15)
LISTEN_LINK_MAX_AGE = 7 * 24 * 3600
MAX_DEPOSIT_SECONDS = 305  # the longest setting (300 s) plus the platform's tolerance
EARLIEST_DEPOSIT = datetime(2000, 1, 1, tzinfo=UTC)
MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database; larger ones name nothing


def valid_id(value) -> bool:
    """Whether ``value`` can be a row id (a garbage id from a URL or form must not reach SQL)."""
    return isinstance(value, int) and 0 < value <= MAX_ID

GREETING_LABELS = {
    GreetingKind.UNAVAILABLE: _l("Nicht erreichbar"),
    GreetingKind.BUSY: _l("Besetzt"),
    GreetingKind.ABSENCE: _l("Abwesenheit"),
}
GREETING_HELP = {
    GreetingKind.UNAVAILABLE: _l("Plays when you do not answer or are not reachable."),
    GreetingKind.BUSY: _l("Plays when you are on another call."),
    GreetingKind.ABSENCE: _l("Takes over from the other greetings while you are away (during the period, if you set one)."),
}
SOURCE_LABELS = {
    GreetingSource.UPLOAD: _l("Uploaded file"),
    GreetingSource.RECORDING: _l("Recorded in the browser"),
    GreetingSource.TTS: _l("Spoken from text"),
}
MODE_LABELS = {
    VoicemailMode.RECORD: _l("Ansage mit Aufzeichnung"),
    VoicemailMode.ANNOUNCE_ONLY: _l("Nur Ansage"),
}


class VoicemailUnavailable(DomainError):
    """A deposit for a number whose voicemail is switched off or only announces (409)."""

    status = 409


# --- the number ------------------------------------------------------------------------------


def assignment(session: Session, profile: UmsProfile) -> ServiceAssignment | None:
    return session.scalar(
        select(ServiceAssignment).where(
            ServiceAssignment.profile_id == profile.id, ServiceAssignment.service == Service.VOICEMAIL
        )
    )


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


def normalize_number(value: str | None) -> str | None:
    """E.164 of a German-context number, or None when it is not a valid number."""
    if not value or not value.strip():
        return None
    try:
        parsed = phonenumbers.parse(value.strip(), "DE")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


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
            profile=profile, number=e164, locked_until=settings.pin_locked_until,
            minutes=int(PIN_LOCK.total_seconds() // 60),
        )
        return PinResult(False, locked_until=settings.pin_locked_until, reason="locked")
    session.flush()
    return PinResult(False, attempts_left=PIN_MAX_ATTEMPTS - settings.pin_failed_attempts, reason="wrong")


# --- greetings -------------------------------------------------------------------------------


@dataclass
class GreetingSlot:
    kind: GreetingKind
    label: str
    help: str
    active: VoicemailGreeting | None
    draft: VoicemailGreeting | None

    @property
    def absence_in_effect(self) -> bool:
        return self.kind == GreetingKind.ABSENCE and self.active is not None and in_period(self.active)


def local_time(moment: datetime) -> datetime:
    """``moment`` in the portal's time zone (Europe/Berlin): file names and "today" follow what
    people see on the pages and in the mails, not the server's UTC."""
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Europe/Berlin"))


def in_period(greeting: VoicemailGreeting, today: date | None = None) -> bool:
    today = today or local_time(utcnow()).date()
    return (greeting.absence_from is None or greeting.absence_from <= today) and (
        greeting.absence_until is None or today <= greeting.absence_until
    )


def greeting_slots(session: Session, profile: UmsProfile) -> list[GreetingSlot]:
    rows = session.scalars(
        select(VoicemailGreeting).where(VoicemailGreeting.profile_id == profile.id)
        .order_by(VoicemailGreeting.id)
    ).all()
    slots = []
    for kind in GreetingKind:
        active = next((g for g in rows if g.kind == kind and g.status == GreetingStatus.ACTIVE), None)
        draft = next((g for g in reversed(rows) if g.kind == kind and g.status == GreetingStatus.DRAFT), None)
        slots.append(GreetingSlot(kind, GREETING_LABELS[kind], GREETING_HELP[kind], active, draft))
    return slots


def greeting_slot(session: Session, profile: UmsProfile, kind: GreetingKind) -> GreetingSlot:
    return next(s for s in greeting_slots(session, profile) if s.kind == kind)


def _check_period(absence_from: date | None, absence_until: date | None) -> None:
    if absence_from and absence_until and absence_until < absence_from:
        raise ValidationFailed(_l("The end of the period must not be before its start."), field="absence_until")


def create_draft(
    session: Session, user: User, profile: UmsProfile, kind: GreetingKind, source: GreetingSource, *,
    data: bytes | None = None, filename: str | None = None, text: str | None = None,
    absence_from: date | None = None, absence_until: date | None = None,
) -> VoicemailGreeting:
    """Convert the new greeting to telephony audio and keep it as a draft for preview.

    Nothing changes (and no file stays) when the audio is refused.
    """
    _check_period(absence_from, absence_until)
    if source == GreetingSource.TTS:
        text = (text or "").strip()
        if len(text) < 3:
            raise ValidationFailed(_l("Please type the text of the greeting."), field="text")
        if len(text) > tts.MAX_TEXT:
            raise ValidationFailed(_l("The text is too long (at most 1000 characters)."), field="text")
        data = tts.speak(text, profile.language or "de")
    elif data is None:
        raise ValidationFailed(_l("Please choose an audio file.") if source == GreetingSource.UPLOAD
                               else _l("Please record the greeting first."), field="file")
    converted = audio.to_telephony(data, max_seconds=audio.MAX_GREETING_SECONDS)
    audio.check_greeting(converted)
    key = storage.save(storage.new_key(f"voicemail/{profile.id}/greetings", ".wav"), converted.wav)
    # Older unconfirmed drafts of this kind are replaced by the new one.
    for old in session.scalars(select(VoicemailGreeting).where(
        VoicemailGreeting.profile_id == profile.id, VoicemailGreeting.kind == kind,
        VoicemailGreeting.status == GreetingStatus.DRAFT,
    )):
        _delete_greeting(session, old)
    greeting = VoicemailGreeting(
        profile_id=profile.id, kind=kind, source=source, status=GreetingStatus.DRAFT, audio_key=key,
        duration_ms=converted.duration_ms, original_name=(filename or None) and filename[:255],
        text=text if source == GreetingSource.TTS else None,
        absence_from=absence_from if kind == GreetingKind.ABSENCE else None,
        absence_until=absence_until if kind == GreetingKind.ABSENCE else None,
    )
    session.add(greeting)
    session.flush()
    return greeting


def _greeting(session: Session, profile: UmsProfile, greeting_id: int) -> VoicemailGreeting:
    greeting = session.get(VoicemailGreeting, greeting_id) if valid_id(greeting_id) else None
    if greeting is None or greeting.profile_id != profile.id:
        raise NotFound(_l("This greeting does not exist or has been replaced."))
    return greeting


def greeting_of(session: Session, profile: UmsProfile, greeting_id: int) -> VoicemailGreeting:
    return _greeting(session, profile, greeting_id)


def _delete_greeting(session: Session, greeting: VoicemailGreeting) -> None:
    keys = [greeting.audio_key, greeting.playback_key]
    session.delete(greeting)
    after_commit(session, lambda: [storage.delete(k) for k in keys])


def activate_greeting(session: Session, user: User, profile: UmsProfile, greeting_id: int) -> VoicemailGreeting:
    greeting = _greeting(session, profile, greeting_id)
    if greeting.status == GreetingStatus.ACTIVE:
        return greeting
    for old in session.scalars(select(VoicemailGreeting).where(
        VoicemailGreeting.profile_id == profile.id, VoicemailGreeting.kind == greeting.kind,
        VoicemailGreeting.status == GreetingStatus.ACTIVE,
    )):
        _delete_greeting(session, old)
    session.flush()
    greeting.status = GreetingStatus.ACTIVE
    greeting.activated_at = utcnow()
    session.flush()
    audit.record(session, user, "voicemail.greeting_activated", customer_id=profile.customer_id,
                 profile_id=profile.id, subject=profile.email, kind=greeting.kind.value,
                 source=greeting.source.value)
    _emit_greeting(session, profile, greeting.kind, greeting)
    return greeting


def discard_draft(session: Session, user: User, profile: UmsProfile, greeting_id: int) -> GreetingKind:
    greeting = _greeting(session, profile, greeting_id)
    if greeting.status != GreetingStatus.DRAFT:
        raise ValidationFailed(_l("Only a greeting not yet activated can be discarded."))
    kind = greeting.kind
    _delete_greeting(session, greeting)
    session.flush()
    return kind


def use_standard(session: Session, user: User, profile: UmsProfile, kind: GreetingKind) -> None:
    """Go back to the platform's standard greeting for ``kind`` (absence: switch absence off)."""
    for old in session.scalars(select(VoicemailGreeting).where(
        VoicemailGreeting.profile_id == profile.id, VoicemailGreeting.kind == kind,
        VoicemailGreeting.status == GreetingStatus.ACTIVE,
    )):
        _delete_greeting(session, old)
    session.flush()
    audit.record(session, user, "voicemail.greeting_standard", customer_id=profile.customer_id,
                 profile_id=profile.id, subject=profile.email, kind=kind.value)
    _emit_greeting(session, profile, kind, None)


def set_absence_period(session: Session, user: User, profile: UmsProfile,
                       absence_from: date | None, absence_until: date | None) -> VoicemailGreeting:
    _check_period(absence_from, absence_until)
    slot = greeting_slot(session, profile, GreetingKind.ABSENCE)
    if slot.active is None:
        raise ValidationFailed(_l("Activate an absence greeting first."), field="absence_from")
    slot.active.absence_from, slot.active.absence_until = absence_from, absence_until
    session.flush()
    _emit_greeting(session, profile, GreetingKind.ABSENCE, slot.active)
    return slot.active


def _emit_greeting(session: Session, profile: UmsProfile, kind: GreetingKind,
                   greeting: VoicemailGreeting | None) -> None:
    number = number_of(session, profile)
    if number is None:
        return
    payload = {"profile_id": profile.id, "number": number, "greeting_kind": kind.value, "source": "standard"}
    if greeting is not None:
        payload.update(
            source=greeting.source.value, greeting_id=greeting.id, duration_ms=greeting.duration_ms,
            audio_path=f"/api/v1/voicemail/greetings/{greeting.id}/audio",
            absence_from=greeting.absence_from.isoformat() if greeting.absence_from else None,
            absence_until=greeting.absence_until.isoformat() if greeting.absence_until else None,
        )
    platform.emit(session, "voicemail.greeting_changed", **payload)


# --- messages --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MessageQuery:
    only_new: bool = False
    caller: str = ""
    day: date | None = None
    page: int = 1


@dataclass
class MessagePage:
    items: list[VoicemailMessage]
    total: int
    page: int
    pages: int
    new_count: int
    query: MessageQuery


def caller_digits(text: str) -> str:
    """Digits to search callers by: „030 123“ → 4930123, „+49 30“ → 4930, „0049…“ → 49…"""
    digits = re.sub(r"\D", "", text or "")
    if not digits:
        return ""
    if digits.startswith("00"):
        return digits[2:]
    if digits.startswith("0"):
        return "49" + digits[1:]
    return digits


def new_count(session: Session, profile_id: int) -> int:
    return session.scalar(
        select(func.count()).select_from(VoicemailMessage).where(
            VoicemailMessage.profile_id == profile_id, VoicemailMessage.deleted_at.is_(None),
            VoicemailMessage.heard_at.is_(None),
        )
    ) or 0


def list_messages(session: Session, profile: UmsProfile, query: MessageQuery, *, tz=None) -> MessagePage:
    """One page of the profile's messages, newest first: three queries whatever the box size.
    (Deleted messages are purged by ``voicemail_jobs`` once their undo time is over.)"""
    conditions = [VoicemailMessage.profile_id == profile.id, VoicemailMessage.deleted_at.is_(None)]
    if query.only_new:
        conditions.append(VoicemailMessage.heard_at.is_(None))
    digits = caller_digits(query.caller)
    if digits:
        conditions.append(VoicemailMessage.caller_e164.contains(digits, autoescape=True))
    if query.day:
        try:
            start = datetime.combine(query.day, time.min, tzinfo=tz or UTC).astimezone(UTC)
            conditions += [VoicemailMessage.received_at >= start,
                           VoicemailMessage.received_at < start + timedelta(days=1)]
        except OverflowError:  # a day at the edge of the calendar (0001-01-01): no message is from then
            conditions.append(false())
    total = session.scalar(select(func.count()).select_from(VoicemailMessage).where(*conditions)) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, query.page), pages)
    items = list(session.scalars(
        select(VoicemailMessage).where(*conditions)
        .order_by(VoicemailMessage.received_at.desc(), VoicemailMessage.id.desc())
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ))
    return MessagePage(items, total, page, pages, new_count(session, profile.id),
                       MessageQuery(query.only_new, query.caller, query.day, page))


def message_of(session: Session, profile: UmsProfile, message_id: int, *,
               include_deleted: bool = False) -> VoicemailMessage:
    message = session.get(VoicemailMessage, message_id) if valid_id(message_id) else None
    if message is None or message.profile_id != profile.id or (
        message.deleted_at is not None and not include_deleted
    ):
        raise NotFound(_l("This message does not exist or has been deleted."))
    return message


def _own_ids(session: Session, profile: UmsProfile, ids: list[int]) -> list[int]:
    ids = [i for i in ids if valid_id(i)][:500]
    if not ids:
        raise ValidationFailed(_l("Select at least one message."), field="ids")
    return list(session.scalars(select(VoicemailMessage.id).where(
        VoicemailMessage.profile_id == profile.id, VoicemailMessage.id.in_(ids))))


def mark(session: Session, user: User, profile: UmsProfile, ids: list[int], *, heard: bool) -> int:
    """Mark messages heard (or new again); playing them never does this by itself."""
    own = _own_ids(session, profile, ids)
    result = session.execute(
        update(VoicemailMessage)
        .where(VoicemailMessage.id.in_(own), VoicemailMessage.deleted_at.is_(None))
        .values(heard_at=utcnow() if heard else None)
        .execution_options(synchronize_session="fetch")
    )
    session.flush()
    return result.rowcount or 0


def delete_messages(session: Session, user: User, profile: UmsProfile, ids: list[int]) -> list[int]:
    """Mark deleted; ``restore_messages`` undoes it for ``UNDO_SECONDS``, then it is purged."""
    own = _own_ids(session, profile, ids)
    deleted = list(session.scalars(
        update(VoicemailMessage)
        .where(VoicemailMessage.id.in_(own), VoicemailMessage.deleted_at.is_(None))
        .values(deleted_at=utcnow())
        .returning(VoicemailMessage.id)
        .execution_options(synchronize_session="fetch")
    ))
    if not deleted:
        raise NotFound(_l("This message does not exist or has been deleted."))
    session.flush()
    audit.record(session, user, "voicemail.messages_deleted", customer_id=profile.customer_id,
                 profile_id=profile.id, subject=profile.email, count=len(deleted))
    return sorted(deleted)


def restore_messages(session: Session, user: User, profile: UmsProfile, ids: list[int]) -> int:
    own = _own_ids(session, profile, ids)
    result = session.execute(
        update(VoicemailMessage)
        .where(VoicemailMessage.id.in_(own), VoicemailMessage.deleted_at.is_not(None),
               VoicemailMessage.deleted_at >= utcnow() - timedelta(seconds=UNDO_SECONDS))
        .values(deleted_at=None)
        .execution_options(synchronize_session="fetch")
    )
    session.flush()
    if not result.rowcount:
        raise ValidationFailed(_l("These messages can no longer be restored."), field="ids")
    return result.rowcount


def purge_deleted(session: Session, profile_id: int | None = None) -> int:
    """Remove messages whose undo time has passed, with their files (after the commit)."""
    cutoff = utcnow() - timedelta(seconds=UNDO_SECONDS)
    conditions = [VoicemailMessage.deleted_at.is_not(None), VoicemailMessage.deleted_at < cutoff]
    if profile_id is not None:
        conditions.append(VoicemailMessage.profile_id == profile_id)
    rows = session.execute(
        select(VoicemailMessage.id, VoicemailMessage.audio_key, VoicemailMessage.playback_key).where(*conditions)
    ).all()
    if rows:
        _remove_messages(session, rows)
    return len(rows)


def _remove_messages(session: Session, rows) -> None:
    from sqlalchemy import delete

    session.execute(delete(VoicemailMessage).where(VoicemailMessage.id.in_([r[0] for r in rows]))
                    .execution_options(synchronize_session="fetch"))
    keys = [k for r in rows for k in r[1:] if k]
    after_commit(session, lambda: [storage.delete(k) for k in keys])


def playback(session: Session, item: VoicemailMessage | VoicemailGreeting) -> tuple[str, str]:
    """(storage key, mime type) of the browser copy, made from the WAV on first use and kept."""
    if item.playback_key and storage.exists(item.playback_key):
        return item.playback_key, _mime(item.playback_key)
    wav = read_audio(item.audio_key)
    data, _mime_type, suffix = audio.playback_copy(wav)
    if suffix == ".wav":
        item.playback_key = item.audio_key
    else:
        item.playback_key = storage.save(item.audio_key.rsplit(".", 1)[0] + suffix, data)
    session.flush()
    return item.playback_key, _mime(item.playback_key)


def ensure_audio(key: str) -> None:
    """NotFound unless the file of ``key`` exists; demo files are spoken again if the media root
    lost them (a fresh media directory next to an old database)."""
    from . import demo_voicemail

    if storage.exists(key):
        return
    if key.rsplit("/", 1)[-1].startswith("demo-") and demo_voicemail.restore(key):
        return
    raise NotFound(_l("The audio of this item is missing."))


def read_audio(key: str) -> bytes:
    ensure_audio(key)
    return storage.read(key)


def _mime(key: str) -> str:
    return {"mp3": "audio/mpeg", "wav": "audio/wav", "ogg": "audio/ogg"}.get(key.rsplit(".", 1)[-1],
                                                                          "application/octet-stream")


# --- deposits from the platform -------------------------------------------------------------


@dataclass
class DepositInput:
    called: str
    caller: str | None
    received_at: str | None
    platform_message_id: str
    audio: bytes | None


_WITHHELD = {"", "anonymous", "unknown", "withheld", "restricted", "private", "unavailable"}


def _parse_deposit(data: DepositInput) -> tuple[str, str, str | None, datetime]:
    message_id = (data.platform_message_id or "").strip()
    if not re.fullmatch(r"[A-Za-z0-9._:@-]{1,100}", message_id):
        raise ValidationFailed(_l("platform_message_id is missing or has characters other than letters, digits and ._:@-."),
                               field="platform_message_id")
    called = normalize_number(data.called)
    if called is None:
        raise ValidationFailed(_l("called is missing or not a phone number."), field="called")
    caller = None
    if (data.caller or "").strip().lower() not in _WITHHELD:
        caller = normalize_number(data.caller)
        if caller is None:
            raise ValidationFailed(_l("caller is not a phone number (leave it empty when withheld)."), field="caller")
    if data.received_at:
        try:
            received = datetime.fromisoformat(data.received_at.strip().replace("Z", "+00:00"))
            received = received.replace(tzinfo=UTC) if received.tzinfo is None else received.astimezone(UTC)
        except (ValueError, OverflowError) as exc:
            raise ValidationFailed(_l("received_at is not an ISO 8601 time."), field="received_at") from exc
        # A time the list could not show sensibly (year 1, next century) is a platform fault.
        if not EARLIEST_DEPOSIT <= received <= utcnow() + timedelta(days=1):
            raise ValidationFailed(_l("received_at is not plausible: it lies before 2000 or more than a day ahead."),
                                   field="received_at")
    else:
        received = utcnow()
    if not data.audio:
        raise ValidationFailed(_l("audio is missing."), field="audio")
    return message_id, called, caller, received


def deposit(session: Session, data: DepositInput) -> tuple[VoicemailMessage, bool]:
    """Store a message the platform recorded; idempotent on ``platform_message_id``.

    Returns (message, created). Unknown numbers raise NotFound (404); a voicemail that is off or
    only announces raises ``VoicemailUnavailable`` (409); bad input ``ValidationFailed`` (422).
    """
    message_id, called, caller, received = _parse_deposit(data)
    existing = session.scalar(select(VoicemailMessage).where(VoicemailMessage.platform_message_id == message_id))
    if existing is not None:
        return existing, False
    profile = profile_for_number(session, called)
    if profile is None:
        raise NotFound(_l("No voicemail answers on %(number)s.", number=called))
    settings = settings_of(session, profile)
    if not settings.enabled:
        raise VoicemailUnavailable(_l("The voicemail on %(number)s is switched off.", number=called))
    if settings.mode == VoicemailMode.ANNOUNCE_ONLY:
        raise VoicemailUnavailable(_l("The voicemail on %(number)s only plays its greeting and records nothing.",
                                      number=called))
    try:
        converted = audio.to_telephony(data.audio, max_seconds=MAX_DEPOSIT_SECONDS)
    except audio.AudioRejected as exc:
        raise audio.AudioRejected(exc.message, field="audio") from exc  # the deposit's field name
    key = storage.save(storage.new_key(f"voicemail/{profile.id}/messages", ".wav"), converted.wav)
    message = VoicemailMessage(
        profile_id=profile.id, platform_message_id=message_id, called_e164=called, caller_e164=caller,
        received_at=received, duration_ms=converted.duration_ms, size_bytes=len(converted.wav), audio_key=key,
    )
    try:
        with session.begin_nested():
            session.add(message)
            session.flush()
    except IntegrityError:
        storage.delete(key)
        existing = session.scalar(select(VoicemailMessage).where(VoicemailMessage.platform_message_id == message_id))
        if existing is None:
            raise
        return existing, False
    purge_deleted(session, profile.id)
    if settings.notify_email:
        notify(session, profile, settings, message, converted.wav)
    return message, True


def deposit_generated(session: Session, number: str, *, text: str | None = None, data: bytes | None = None,
                      caller: str | None = None, received_at: datetime | None = None,
                      platform_message_id: str | None = None, language: str = "de") -> VoicemailMessage:
    """A deposit with spoken ``text`` (eSpeak NG) or a given audio file: the CLI, demo and tests."""
    import secrets

    if data is None:
        data = tts.speak(text or "Guten Tag, bitte rufen Sie mich zurück.", language)
    message, _ = deposit(session, DepositInput(
        called=number, caller=caller, received_at=received_at.isoformat() if received_at else None,
        platform_message_id=platform_message_id or f"local-{secrets.token_hex(8)}", audio=data,
    ))
    return message


# --- notification ---------------------------------------------------------------------------


def duration_text(duration_ms: int) -> str:
    minutes, seconds = divmod(round(duration_ms / 1000), 60)
    return f"{minutes}:{seconds:02d}"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="voicemail-listen")


def listen_token(message: VoicemailMessage) -> str:
    return _serializer().dumps({"m": message.id, "p": message.profile_id})


def message_for_token(session: Session, token: str) -> VoicemailMessage:
    """The message of a signed listen link; expired or forged links are refused (410/404)."""
    try:
        payload = _serializer().loads(token, max_age=LISTEN_LINK_MAX_AGE)
    except SignatureExpired as exc:
        raise LinkExpired(_l("This link has expired (links are valid for 7 days). Please sign in to listen.")) from exc
    except BadSignature as exc:
        raise NotFound(_l("This link is not valid.")) from exc
    message = session.get(VoicemailMessage, payload.get("m"))
    if message is None or message.profile_id != payload.get("p") or message.deleted_at is not None:
        raise NotFound(_l("This message does not exist or has been deleted."))
    return message


class LinkExpired(DomainError):
    status = 410


def external_url(endpoint: str, **values) -> str:
    """An absolute link for mails, also outside a request (jobs, CLI)."""
    adapter = current_app.url_map.bind("localhost", url_scheme="http")
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + adapter.build(endpoint, values)


def notify(session: Session, profile: UmsProfile, settings: VoicemailSettings, message: VoicemailMessage,
           wav: bytes) -> None:
    caller = message.caller_e164
    attach = settings.attach_audio
    stamp = local_time(message.received_at).strftime("%Y%m%d-%H%M%S")
    mail.queue(
        session, notify_address(settings, profile), "voicemail_new_message",
        subject=_l("New voicemail message from %(caller)s", caller=_caller_text(caller)),
        locale=profile.language or "de",
        attachment=(f"nachricht-{stamp}.wav", "audio/wav", wav) if attach else None,
        after_send=("voicemail.delete_after_send", message.id) if settings.delete_after_send else None,
        profile=profile, message=message, caller=caller, duration=duration_text(message.duration_ms),
        attached=attach, delete_after_send=settings.delete_after_send,
        signin_link=external_url("voicemail.index", profile_id=profile.id) + f"#vm-msg-{message.id}",
        listen_link=external_url("voicemail.listen", token=listen_token(message)),
    )


class _CallerText:
    """Lazily formatted caller for a lazy subject (rendered in the recipient's language)."""

    def __init__(self, e164: str | None):
        self.e164 = e164

    def __str__(self) -> str:

        return phone.display(self.e164) if self.e164 else str(_l("Unbekannt"))


def _caller_text(e164: str | None) -> _CallerText:
    return _CallerText(e164)


def delete_after_send(session: Session, message_id: int) -> None:
    """Mail hook: the notification with the audio was accepted, so the message goes."""
    row = session.execute(
        select(VoicemailMessage.id, VoicemailMessage.audio_key, VoicemailMessage.playback_key)
        .where(VoicemailMessage.id == message_id)
    ).first()
    if row is not None:
        _remove_messages(session, [row])


mail.AFTER_SEND_HOOKS["voicemail.delete_after_send"] = delete_after_send


# --- profile deletion -----------------------------------------------------------------------


def delete_profile_media(session: Session, profile: UmsProfile) -> None:
    """Remove the profile's voicemail files once its deletion is committed (rows cascade)."""
    prefix = f"voicemail/{profile.id}"
    after_commit(session, lambda: storage.delete_prefix(prefix))
