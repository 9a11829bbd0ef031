"""SIP trunk contracts, their sites, number blocks, phone numbers and UMS licences."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow


class Contract(Base):
    __tablename__ = "contracts"
    __table_args__ = (
        CheckConstraint("min_term_months IN (12, 24, 36)", name="min_term"),
        CheckConstraint("voice_channels > 0", name="voice_channels_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    product_name: Mapped[str] = mapped_column(String(100), default="IPfonie SIP-Trunk")
    min_term_months: Mapped[int] = mapped_column(Integer)
    kombi_option: Mapped[bool] = mapped_column(Boolean, default=False)
    voice_channels: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    source_order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    # The order line a provisioned trunk came from: unique, so one line never makes two contracts.
    source_order_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("order_items.id", use_alter=True), unique=True)

    customer: Mapped[Customer] = relationship(back_populates="contracts")  # noqa: F821
    sites: Mapped[list[Site]] = relationship(back_populates="contract", order_by="Site.id")
    licences: Mapped[list[Licence]] = relationship(back_populates="contract")

    def __str__(self) -> str:
        return self.number


class Site(Base):
    """„Standort / Gruppe" of a contract."""

    __tablename__ = "sites"
    __table_args__ = (UniqueConstraint("contract_id", "name", name="uq_sites_contract_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))

    contract: Mapped[Contract] = relationship(back_populates="sites")
    blocks: Mapped[list[NumberBlock]] = relationship(back_populates="site")

    def __str__(self) -> str:
        return self.name


class NumberBlock(Base):
    """A block of extensions (Durchwahlrufnummern) under a base number, e.g. +49301234567-0…-99."""

    __tablename__ = "number_blocks"
    __table_args__ = (CheckConstraint("first_extension <= last_extension", name="range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    base_e164: Mapped[str] = mapped_column(String(16))
    first_extension: Mapped[int] = mapped_column(Integer)
    last_extension: Mapped[int] = mapped_column(Integer)

    site: Mapped[Site] = relationship(back_populates="blocks")


class PhoneNumber(Base):
    """One extension number in E.164; at most one service anywhere may use it."""

    __tablename__ = "phone_numbers"

    id: Mapped[int] = mapped_column(primary_key=True)
    e164: Mapped[str] = mapped_column(String(20), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    block_id: Mapped[int] = mapped_column(ForeignKey("number_blocks.id", ondelete="CASCADE"), index=True)
    extension: Mapped[str] = mapped_column(String(6))

    site: Mapped[Site] = relationship()


class Licence(Base):
    """One booked UMS package on a contract; a profile occupies exactly one."""

    __tablename__ = "licences"
    __table_args__ = (
        # The n-th licence of an order line exists once: a line never yields more than it ordered.
        UniqueConstraint("order_item_id", "position", name="uq_licences_order_item_position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    order_item_id: Mapped[int | None] = mapped_column(ForeignKey("order_items.id", ondelete="SET NULL"))
    position: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    contract: Mapped[Contract] = relationship(back_populates="licences")
