"""Greetings of the voicemail: drafts for preview, the active greeting per kind, absence period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...db import after_commit
from ...models import (
    GreetingKind,
    GreetingSource,
    GreetingStatus,
    UmsProfile,
    User,
    VoicemailGreeting,
    utcnow,
)
from .. import audio, audit, platform, storage, tts
from ..errors import NotFound, ValidationFailed
from ..inbox import valid_id
from ..links import local_time
from .settings import number_of

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


def in_period(greeting: VoicemailGreeting, today: date | None = None) -> bool:
    # The clock is looked up on the package, where tests set it.
    from .. import voicemail as package

    today = today or local_time(package.utcnow()).date()
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
    key = storage.stage(session, storage.new_key(f"voicemail/{profile.id}/greetings", ".wav"), converted.wav)
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

