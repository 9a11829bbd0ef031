"""Anrufbeantworter (voicemail) of a UMS profile: settings with the phone PIN and its lock,
greetings, and the messages the telephony platform deposits. Audio lives in the media storage;
rows only keep its storage keys."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow
from .org import str_enum


class VoicemailMode(enum.StrEnum):
    RECORD = "record"  # „Ansage mit Aufzeichnung"
    ANNOUNCE_ONLY = "announce_only"  # „Nur Ansage"


class GreetingKind(enum.StrEnum):
    UNAVAILABLE = "unavailable"  # „Nicht erreichbar"
    BUSY = "busy"  # „Besetzt"
    ABSENCE = "absence"  # „Abwesenheit"


class GreetingSource(enum.StrEnum):
    UPLOAD = "upload"
    RECORDING = "recording"
    TTS = "tts"


class GreetingStatus(enum.StrEnum):
    DRAFT = "draft"  # converted and offered for preview
    ACTIVE = "active"


class VoicemailSettings(Base):
    """One row per profile; absent means the defaults below."""

    __tablename__ = "voicemail_settings"
    __table_args__ = (
        CheckConstraint("answer_after_seconds BETWEEN 5 AND 60", name="answer_after_range"),
        CheckConstraint("max_message_seconds BETWEEN 30 AND 300", name="max_message_range"),
        CheckConstraint(
            "NOT delete_after_send OR (notify_email AND attach_audio)", name="delete_needs_attachment"
        ),
        CheckConstraint("pin_failed_attempts >= 0", name="pin_failed_attempts_positive"),
    )

    profile_id: Mapped[int] = mapped_column(
        ForeignKey("ums_profiles.id", ondelete="CASCADE"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    answer_immediately: Mapped[bool] = mapped_column(Boolean, default=False)
    answer_after_seconds: Mapped[int] = mapped_column(Integer, default=20)
    mode: Mapped[VoicemailMode] = mapped_column(
        str_enum(VoicemailMode, "voicemail_mode"), default=VoicemailMode.RECORD
    )
    max_message_seconds: Mapped[int] = mapped_column(Integer, default=120)
    notify_email: Mapped[bool] = mapped_column(Boolean, default=False)
    notify_address: Mapped[str | None] = mapped_column(String(254))  # None: the profile's address
    attach_audio: Mapped[bool] = mapped_column(Boolean, default=False)
    delete_after_send: Mapped[bool] = mapped_column(Boolean, default=False)
    pin_hash: Mapped[str | None] = mapped_column(String(255))
    pin_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pin_failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    pin_locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class VoicemailGreeting(Base):
    """A custom greeting of one kind; without an active one the platform's standard greeting plays."""

    __tablename__ = "voicemail_greetings"
    __table_args__ = (
        Index("ix_voicemail_greetings_profile_kind", "profile_id", "kind", "status"),
        CheckConstraint(
            "absence_until IS NULL OR absence_from IS NULL OR absence_until >= absence_from",
            name="absence_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("ums_profiles.id", ondelete="CASCADE"))
    kind: Mapped[GreetingKind] = mapped_column(str_enum(GreetingKind, "greeting_kind"))
    source: Mapped[GreetingSource] = mapped_column(str_enum(GreetingSource, "greeting_source"))
    status: Mapped[GreetingStatus] = mapped_column(
        str_enum(GreetingStatus, "greeting_status"), default=GreetingStatus.DRAFT
    )
    audio_key: Mapped[str] = mapped_column(String(200))  # 8 kHz mono 16-bit PCM WAV
    playback_key: Mapped[str | None] = mapped_column(String(200))
    duration_ms: Mapped[int] = mapped_column(Integer)
    original_name: Mapped[str | None] = mapped_column(String(255))
    text: Mapped[str | None] = mapped_column(Text)
    absence_from: Mapped[date | None] = mapped_column(Date)
    absence_until: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class VoicemailMessage(Base):
    """A message left by a caller; ``deleted_at`` marks it deleted while undo is still possible."""

    __tablename__ = "voicemail_messages"
    __table_args__ = (
        # The list (newest first, not deleted) reads this partial index in order, on SQLite and
        # PostgreSQL alike (an IS NULL column in front would not give PostgreSQL the order) …
        Index("ix_voicemail_messages_profile_list", "profile_id", "received_at", "id",
              sqlite_where=text("deleted_at IS NULL"), postgresql_where=text("deleted_at IS NULL")),
        # … and the count of new messages (navigation badge, "new only") only this one.
        Index("ix_voicemail_messages_profile_new", "profile_id", "deleted_at", "heard_at"),
        # The periodic purge of deletions whose undo time is over, across all boxes.
        Index("ix_voicemail_messages_deleted_at", "deleted_at"),
        CheckConstraint("duration_ms >= 0", name="duration_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("ums_profiles.id", ondelete="CASCADE"))
    platform_message_id: Mapped[str] = mapped_column(String(100), unique=True)
    called_e164: Mapped[str] = mapped_column(String(20))
    caller_e164: Mapped[str | None] = mapped_column(String(20))  # None: number withheld
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    audio_key: Mapped[str] = mapped_column(String(200))  # 8 kHz mono 16-bit PCM WAV
    playback_key: Mapped[str | None] = mapped_column(String(200))
    heard_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def is_new(self) -> bool:
        return self.heard_at is None
