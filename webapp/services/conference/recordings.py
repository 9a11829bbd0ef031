"""Recordings of the room: deposited by the platform over the signed API (only while the room's
settings allow recording), kept as 8 kHz mono WAV in the media storage, listed, played (HTTP
Range through ``storage.serve``), downloaded and deleted with undo — the shared ``inbox.Box``
and ``deposits`` helpers that voicemail and fax use too."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from ...models import ConferenceRecording, UmsProfile, User
from .. import audio, deposits, inbox, storage, tts
from ..errors import DomainError, NotFound, ValidationFailed
from . import room as rooms

PAGE_SIZE = 20
MAX_SECONDS = 8 * 3600 + 300  # the longest meeting plus the platform's tolerance
MAX_BYTES = 30 * 1024 * 1024  # below the request limit (MAX_CONTENT_LENGTH)

BOX = inbox.Box(
    model=ConferenceRecording,
    read_column="created_at",  # recordings have no read state; mark/unread_count are not used
    file_columns=("audio_key", "playback_key"),
    not_found=_l("This recording does not exist or has been deleted."),
    select_one=_l("Select at least one recording."),
    not_restorable=_l("This recording can no longer be restored."),
    audit_deleted="conference.recordings_deleted", newest_first="started_at",
)


class RecordingNotAllowed(DomainError):
    """A deposit for a room whose settings do not allow recording (409)."""

    status = 409


@dataclass
class RecordingInput:
    called: str
    platform_recording_id: str
    started_at: str | None
    audio: bytes | None


def deposit(session: Session, data: RecordingInput) -> tuple[ConferenceRecording, bool]:
    """Store a recording; idempotent on ``platform_recording_id``. Returns (recording, created)."""
    recording_id = deposits.platform_id(data.platform_recording_id, "platform_recording_id")
    called = deposits.called_number(data.called)
    started = deposits.received_time(data.started_at, "started_at")
    if not data.audio:
        raise ValidationFailed(_l("audio is missing."), field="audio")
    found = deposits.existing(session, ConferenceRecording.platform_recording_id, recording_id)
    if found is not None:
        return found, False
    profile = rooms.profile_for_number(session, called)
    room = rooms.room_of(session, profile) if profile else None
    if room is None:
        raise NotFound(_l("No conference room answers on this number."))
    if not room.allow_recording:
        raise RecordingNotAllowed(_l("The room on %(number)s does not allow recording.", number=called))
    try:
        converted = audio.to_telephony(data.audio, max_seconds=MAX_SECONDS, max_bytes=MAX_BYTES)
    except audio.AudioRejected as exc:
        raise audio.AudioRejected(exc.message, field="audio") from exc
    key = storage.new_key(f"conference/{profile.id}/recordings", ".wav")
    recording, created = deposits.insert_once(session, ConferenceRecording(
        profile_id=profile.id, platform_recording_id=recording_id, started_at=started,
        duration_ms=converted.duration_ms, size_bytes=len(converted.wav), audio_key=key,
    ), ConferenceRecording.platform_recording_id, recording_id, [key])
    if created:
        storage.stage(session, key, converted.wav)  # in place once the row commits
        BOX.purge_deleted(session, profile.id)
    return recording, created


def deposit_generated(session: Session, number: str, *, text: str | None = None, data: bytes | None = None,
                      started_at: datetime | None = None) -> ConferenceRecording:
    """A recording of spoken ``text`` (eSpeak NG) or a given file: demo and tests."""
    if data is None:
        data = tts.speak(text or "Willkommen zur Telefonkonferenz.", "de")
    recording, _ = deposit(session, RecordingInput(
        called=number, platform_recording_id=f"local-{secrets.token_hex(8)}",
        started_at=started_at.isoformat() if started_at else None, audio=data))
    return recording


def list_recordings(session: Session, profile: UmsProfile, page: int = 1) -> inbox.Page:
    return BOX.page(session, profile.id, [], page, PAGE_SIZE)


def recording_of(session: Session, profile: UmsProfile, recording_id: int) -> ConferenceRecording:
    return BOX.get(session, profile, recording_id)


def delete(session: Session, user: User, profile: UmsProfile, ids: list[int]) -> list[int]:
    return BOX.delete(session, user, profile, ids)


def restore(session: Session, user: User, profile: UmsProfile, ids: list[int]) -> int:
    return BOX.restore(session, user, profile, ids)


def duration_text(duration_ms: int) -> str:
    minutes, seconds = divmod(round(duration_ms / 1000), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def delete_profile_media(session: Session, profile: UmsProfile) -> None:
    """Remove the profile's recordings once its deletion is committed (the rows cascade)."""
    from ...db import after_commit

    prefix = f"conference/{profile.id}"
    after_commit(session, lambda: storage.delete_prefix(prefix))
