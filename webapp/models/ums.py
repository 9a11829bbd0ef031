"""UMS profiles, their service assignments and e-mail change codes."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow
from .org import str_enum


class Service(enum.StrEnum):
    FAX = "fax"
    VOICEMAIL = "voicemail"
    CONFERENCE = "conference"


class UmsProfile(Base):
    __tablename__ = "ums_profiles"
    __table_args__ = (
        Index("ix_ums_profiles_customer_name", "customer_id", "last_name", "first_name"),
        # the profile list's order (``profiles._sort_keys``): a page is read, not sorted
        Index("ix_ums_profiles_customer_lower_name", "customer_id", func.lower(text("last_name")),
              func.lower(text("first_name")), "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    licence_id: Mapped[int] = mapped_column(ForeignKey("licences.id"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    last_name: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))
    email_normalized: Mapped[str] = mapped_column(String(254), unique=True)
    language: Mapped[str] = mapped_column(String(5), default="de")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    customer: Mapped[Customer] = relationship()  # noqa: F821
    contract: Mapped[Contract] = relationship()  # noqa: F821
    site: Mapped[Site] = relationship()  # noqa: F821
    licence: Mapped[Licence] = relationship()  # noqa: F821
    user: Mapped[User] = relationship(foreign_keys=[user_id])  # noqa: F821
    assignments: Mapped[list[ServiceAssignment]] = relationship(
        back_populates="profile", cascade="all, delete-orphan"
    )
    # Read-only, for loading with the profile in one query (the voicemail page's
    # ``joinedload``); ``voicemail.settings_of`` then finds it in the session.
    voicemail_settings: Mapped[VoicemailSettings | None] = relationship(viewonly=True)  # noqa: F821
    # Read-only, loaded with the profile by the list pages: their fragment cache's key (``BoxVersion``).
    voicemail_box: Mapped[BoxVersion | None] = relationship(
        primaryjoin="and_(BoxVersion.profile_id == UmsProfile.id, BoxVersion.box == 'voicemail')", viewonly=True)
    fax_box: Mapped[BoxVersion | None] = relationship(
        primaryjoin="and_(BoxVersion.profile_id == UmsProfile.id, BoxVersion.box == 'fax')", viewonly=True)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class BoxVersion(Base):
    """A profile's box (``voicemail``: its messages, ``fax``: its received faxes) as database
    triggers keep it (migration 0010), in the transaction of every INSERT, UPDATE and DELETE of
    one of its rows, whichever code path writes: how often it changed (``version``: the list
    pages key their rendered fragments by it, ``webapp/fragments.py``), how many items it holds
    that are not deleted (``total``) and how many of those are unread (``unread``). No row: the
    box never held an item."""

    __tablename__ = "box_versions"

    profile_id: Mapped[int] = mapped_column(ForeignKey("ums_profiles.id", ondelete="CASCADE"), primary_key=True)
    box: Mapped[str] = mapped_column(String(20), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    unread: Mapped[int] = mapped_column(Integer, default=0)


class ServiceAssignment(Base):
    """A service of a profile; ``number_id`` is empty while no number serves it (data is kept)."""

    __tablename__ = "service_assignments"
    __table_args__ = (
        UniqueConstraint("profile_id", "service", name="uq_service_assignments_profile_service"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("ums_profiles.id", ondelete="CASCADE"), index=True)
    service: Mapped[Service] = mapped_column(str_enum(Service, "service"))
    number_id: Mapped[int | None] = mapped_column(ForeignKey("phone_numbers.id"), unique=True)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    profile: Mapped[UmsProfile] = relationship(back_populates="assignments")
    number: Mapped[PhoneNumber | None] = relationship(lazy="joined")  # noqa: F821


class EmailChangeCode(Base):
    """A one-time code sent to the current address; stored hashed, expires, few tries."""

    __tablename__ = "email_change_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("ums_profiles.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
