"""Messages deposited by the telephony platform (signed ``/api/v1``), the CLI, demo and tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from ...models import VoicemailMessage, VoicemailMode
from .. import audio, deposits, storage, tts
from ..errors import NotFound, ValidationFailed
from .messages import purge_deleted
from .notify import notify
from .settings import VoicemailUnavailable, profile_for_number, settings_of

MAX_DEPOSIT_SECONDS = 305  # the longest setting (300 s) plus the platform's tolerance


@dataclass
class DepositInput:
    called: str
    caller: str | None
    received_at: str | None
    platform_message_id: str
    audio: bytes | None


def _parse_deposit(data: DepositInput) -> tuple[str, str, str | None, datetime]:
    message_id = deposits.platform_id(data.platform_message_id, "platform_message_id")
    called = deposits.called_number(data.called)
    caller = deposits.caller_number(data.caller)
    received = deposits.received_time(data.received_at)
    if not data.audio:
        raise ValidationFailed(_l("audio is missing."), field="audio")
    return message_id, called, caller, received


def deposit(session: Session, data: DepositInput) -> tuple[VoicemailMessage, bool]:
    """Store a message the platform recorded; idempotent on ``platform_message_id``.

    Returns (message, created). Unknown numbers raise NotFound (404); a voicemail that is off or
    only announces raises ``VoicemailUnavailable`` (409); bad input ``ValidationFailed`` (422).
    """
    message_id, called, caller, received = _parse_deposit(data)
    existing = deposits.existing(session, VoicemailMessage.platform_message_id, message_id)
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
    key = storage.new_key(f"voicemail/{profile.id}/messages", ".wav")
    message, created = deposits.insert_once(session, VoicemailMessage(
        profile_id=profile.id, platform_message_id=message_id, called_e164=called, caller_e164=caller,
        received_at=received, duration_ms=converted.duration_ms, size_bytes=len(converted.wav), audio_key=key,
    ), VoicemailMessage.platform_message_id, message_id, [key])
    if not created:
        return message, False
    storage.stage(session, key, converted.wav)  # in place once the row commits
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
