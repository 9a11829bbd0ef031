"""Konferenz (conference) of a UMS profile: the dial-in room with its PINs and settings, scheduled
meetings with their invitations, who is in the room now (from platform events), and recordings.

PINs are kept encrypted (Fernet, key derived from SECRET_KEY) because the owner sees them again
and the platform needs them in clear text; a keyed digest of each PIN makes them unique
platform-wide as a database constraint without storing them in clear.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow
from .org import str_enum


class PinRole(enum.StrEnum):
    MODERATOR = "moderator"
    PARTICIPANT = "participant"


class ConferenceRoom(Base):
    """One room per profile, on the number of its ``Service.CONFERENCE`` assignment."""

    __tablename__ = "conference_rooms"
    __table_args__ = (
        CheckConstraint("max_participants BETWEEN 2 AND 50", name="max_participants_range"),
        CheckConstraint("language IN ('de', 'en')", name="language_known"),
    )

    profile_id: Mapped[int] = mapped_column(ForeignKey("ums_profiles.id", ondelete="CASCADE"), primary_key=True)
    max_participants: Mapped[int] = mapped_column(Integer, default=10)
    wait_for_moderator: Mapped[bool] = mapped_column(Boolean, default=True)
    announce_join_leave: Mapped[bool] = mapped_column(Boolean, default=False)
    entry_exit_tones: Mapped[bool] = mapped_column(Boolean, default=True)
    mute_on_entry: Mapped[bool] = mapped_column(Boolean, default=False)
    end_when_moderator_leaves: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_recording: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(2), default="de")
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ConferencePin(Base):
    """A PIN of a room: encrypted for showing it again, digested for platform-wide uniqueness."""

    __tablename__ = "conference_pins"
    __table_args__ = (UniqueConstraint("profile_id", "role", name="uq_conference_pins_profile_role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("conference_rooms.profile_id", ondelete="CASCADE"))
    role: Mapped[PinRole] = mapped_column(str_enum(PinRole, "conference_pin_role"))
    digest: Mapped[str] = mapped_column(String(64), unique=True)  # HMAC-SHA256 of the PIN
    secret: Mapped[str] = mapped_column(String(255))  # Fernet token of the PIN
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConferenceMeeting(Base):
    """A scheduled meeting; ``sequence`` counts the invitation versions (iCalendar SEQUENCE)."""

    __tablename__ = "conference_meetings"
    __table_args__ = (
        Index("ix_conference_meetings_profile_start", "profile_id", "starts_at"),
        CheckConstraint("duration_minutes BETWEEN 5 AND 480", name="duration_range"),
        CheckConstraint("sequence >= 0", name="sequence_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("ums_profiles.id", ondelete="CASCADE"))
    uid: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(40), default="Europe/Berlin")
    duration_minutes: Mapped[int] = mapped_column(Integer)
    agenda: Mapped[str] = mapped_column(Text, default="")
    invitees: Mapped[list] = mapped_column(JSON, default=list)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ConferenceParticipant(Base):
    """A call leg in the room. Each state carries the platform time it was last set at, so an
    event that arrives late never overwrites a newer state."""

    __tablename__ = "conference_participants"
    __table_args__ = (
        UniqueConstraint("profile_id", "call_id", name="uq_conference_participants_profile_call"),
        Index("ix_conference_participants_present", "profile_id", "left_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("ums_profiles.id", ondelete="CASCADE"))
    call_id: Mapped[str] = mapped_column(String(100))
    caller: Mapped[str | None] = mapped_column(String(20))  # E.164, None when withheld
    name: Mapped[str | None] = mapped_column(String(100))
    is_moderator: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    talking: Mapped[bool] = mapped_column(Boolean, default=False)
    talking_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    muted: Mapped[bool] = mapped_column(Boolean, default=False)
    muted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ConferenceEvent(Base):
    """Platform events already applied, by their id: a replay changes nothing."""

    __tablename__ = "conference_events"

    event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("ums_profiles.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConferenceRecording(Base):
    """A recording the platform deposited; ``deleted_at`` marks it deleted while undo is possible."""

    __tablename__ = "conference_recordings"
    __table_args__ = (
        Index("ix_conference_recordings_profile_list", "profile_id", "deleted_at", "started_at"),
        CheckConstraint("duration_ms >= 0", name="duration_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("ums_profiles.id", ondelete="CASCADE"))
    platform_recording_id: Mapped[str] = mapped_column(String(100), unique=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    audio_key: Mapped[str] = mapped_column(String(200))  # 8 kHz mono 16-bit PCM WAV
    playback_key: Mapped[str | None] = mapped_column(String(200))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
