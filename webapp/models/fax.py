"""Fax of a UMS profile: settings (fax to e-mail, Kopfzeile, station ID), received faxes the
platform deposits, and faxes sent from the portal with their documents. Files live in the media
storage under one folder per fax (``media_prefix``); rows only keep keys."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow
from .org import str_enum


class FaxStatus(enum.StrEnum):
    DRAFT = "draft"  # documents being put together, not sent
    QUEUED = "queued"  # waiting for its (next) attempt
    CONVERTING = "converting"
    SENDING = "sending"
    SENT = "sent"  # „Gesendet"
    BUSY = "busy"  # „Besetzt" (after the last try)
    NO_ANSWER = "no_answer"
    FAILED = "failed"


class FaxResolution(enum.StrEnum):
    NORMAL = "normal"  # 204 × 98 dpi
    FINE = "fine"  # 204 × 196 dpi


class PreviewStatus(enum.StrEnum):
    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"


class FaxSettings(Base):
    """One row per profile; absent means the defaults (no fax to e-mail, no Kopfzeile)."""

    __tablename__ = "fax_settings"

    profile_id: Mapped[int] = mapped_column(ForeignKey("ums_profiles.id", ondelete="CASCADE"), primary_key=True)
    email_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    email_addresses: Mapped[str | None] = mapped_column(Text)  # comma-separated; None: the profile's address
    header_line: Mapped[str | None] = mapped_column(String(50))  # „Kopfzeile"
    station_id: Mapped[str | None] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ReceivedFax(Base):
    """A fax the platform received for the profile's fax number, stored as PDF."""

    __tablename__ = "fax_received"
    __table_args__ = (
        Index("ix_fax_received_profile_list", "profile_id", "received_at", "id",
              sqlite_where=text("deleted_at IS NULL"), postgresql_where=text("deleted_at IS NULL")),
        Index("ix_fax_received_profile_new", "profile_id", "deleted_at", "read_at"),
        Index("ix_fax_received_deleted_at", "deleted_at"),
        CheckConstraint("pages >= 1", name="pages_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("ums_profiles.id", ondelete="CASCADE"))
    platform_fax_id: Mapped[str] = mapped_column(String(100), unique=True)
    called_e164: Mapped[str] = mapped_column(String(20))
    caller_e164: Mapped[str | None] = mapped_column(String(20))  # None: number withheld
    station_id: Mapped[str | None] = mapped_column(String(20))  # the sender's station ID (CSID)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    pages: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    media_prefix: Mapped[str] = mapped_column(String(200))  # folder of fax.pdf and the page images
    pdf_key: Mapped[str] = mapped_column(String(200))
    preview_status: Mapped[PreviewStatus] = mapped_column(
        str_enum(PreviewStatus, "fax_preview_status"), default=PreviewStatus.PENDING)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def is_new(self) -> bool:
        return self.read_at is None


class SentFax(Base):
    """A fax sent (or being put together) in the portal, with its transmission state."""

    __tablename__ = "fax_sent"
    __table_args__ = (
        Index("ix_fax_sent_profile_list", "profile_id", "created_at", "id",
              sqlite_where=text("deleted_at IS NULL"), postgresql_where=text("deleted_at IS NULL")),
        Index("ix_fax_sent_status", "status", "next_attempt_at"),
        # "anything in flight?" for the live list, whatever the box size
        Index("ix_fax_sent_profile_status", "profile_id", "status"),
        Index("ix_fax_sent_deleted_at", "deleted_at"),
        CheckConstraint("attempts >= 0 AND max_attempts >= 1", name="attempts_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("ums_profiles.id", ondelete="CASCADE"))
    destination_e164: Mapped[str | None] = mapped_column(String(20))
    resolution: Mapped[FaxResolution] = mapped_column(
        str_enum(FaxResolution, "fax_resolution"), default=FaxResolution.FINE)
    status: Mapped[FaxStatus] = mapped_column(str_enum(FaxStatus, "fax_status"), default=FaxStatus.DRAFT)
    reason: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    send_after: Mapped[datetime | None] = mapped_column(UTCDateTime)  # optional later sending
    cover_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    cover_from: Mapped[str | None] = mapped_column(String(100))
    cover_to: Mapped[str | None] = mapped_column(String(100))
    cover_subject: Mapped[str | None] = mapped_column(String(200))
    cover_note: Mapped[str | None] = mapped_column(Text)
    header_line: Mapped[str | None] = mapped_column(String(50))
    station_id: Mapped[str | None] = mapped_column(String(20))
    pages: Mapped[int] = mapped_column(Integer, default=0)
    media_prefix: Mapped[str] = mapped_column(String(200))
    preview_status: Mapped[PreviewStatus] = mapped_column(
        str_enum(PreviewStatus, "fax_preview_status"), default=PreviewStatus.PENDING)
    preview_error: Mapped[str | None] = mapped_column(String(300))
    preview_version: Mapped[int] = mapped_column(Integer, default=0)  # bumps when the content changes
    tiff_key: Mapped[str | None] = mapped_column(String(200))
    report_key: Mapped[str | None] = mapped_column(String(200))
    platform_fax_id: Mapped[str | None] = mapped_column(String(100), unique=True)  # of the current attempt
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    documents: Mapped[list[FaxDocument]] = relationship(
        back_populates="fax", order_by="FaxDocument.position", cascade="all, delete-orphan")

    @property
    def in_flight(self) -> bool:
        return self.status in (FaxStatus.QUEUED, FaxStatus.CONVERTING, FaxStatus.SENDING)


class FaxDocument(Base):
    """One uploaded document of a fax to send, in the order the user chose."""

    __tablename__ = "fax_documents"
    __table_args__ = (
        Index("ix_fax_documents_fax", "fax_id", "position"),
        CheckConstraint("pages >= 1", name="pages_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fax_id: Mapped[int] = mapped_column(ForeignKey("fax_sent.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(10))  # pdf, jpeg, png, tiff
    key: Mapped[str] = mapped_column(String(200))
    pages: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    fax: Mapped[SentFax] = relationship(back_populates="documents")
