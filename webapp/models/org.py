"""Organisations and people: customers, resellers, tenants with their AVVs, portal users, role grants."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow


def str_enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
    )


class ProductLine(enum.StrEnum):
    IPFONIE = "ipfonie"
    CENTRAFLEX = "centraflex"


class Role(enum.StrEnum):
    IPFONIE_ADMIN = "ipfonie_admin"
    CENTRAFLEX_ADMIN = "centraflex_admin"
    UMS_USER = "ums_user"
    ORDER_PERMISSION = "order_permission"
    BACK_OFFICE = "back_office"


class Reseller(Base):
    __tablename__ = "resellers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))

    end_customers: Mapped[list[Customer]] = relationship(back_populates="reseller")


class Tenant(Base):
    """A Mandant; a sub-tenant (Submandant) has a parent."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"))

    parent: Mapped[Tenant | None] = relationship(remote_side="Tenant.id")


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    product_line: Mapped[ProductLine] = mapped_column(str_enum(ProductLine, "product_line"))
    reseller_id: Mapped[int | None] = mapped_column(ForeignKey("resellers.id"), index=True)

    reseller: Mapped[Reseller | None] = relationship(back_populates="end_customers")
    contracts: Mapped[list[Contract]] = relationship(  # noqa: F821
        back_populates="customer", order_by="Contract.number"
    )

    def __str__(self) -> str:
        return f"{self.name} ({self.number})"


class TenantCustomer(Base):
    """A customer that a tenant looks after."""

    __tablename__ = "tenant_customers"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )


class DataProcessingAgreement(Base):
    """Auftragsverarbeitungsvertrag (AVV) between a tenant and a customer."""

    __tablename__ = "data_processing_agreements"
    __table_args__ = (
        CheckConstraint("ended_on IS NULL OR ended_on >= signed_on", name="ended_after_signed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    signed_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)

    def active_on(self, day: date) -> bool:
        return self.signed_on <= day and (self.ended_on is None or self.ended_on > day)


class User(UserMixin, Base):
    """A portal login. ``email`` is stored normalised (lower case)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    locale: Mapped[str | None] = mapped_column(String(5))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    reseller_id: Mapped[int | None] = mapped_column(ForeignKey("resellers.id"), index=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Two-factor sign-in (TOTP, RFC 6238): the shared secret (set while being set up), when it was
    # confirmed (on from then), and the last time step accepted (a code is never accepted twice).
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)

    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )
    reseller: Mapped[Reseller | None] = relationship()
    tenant: Mapped[Tenant | None] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def has_role(self, role: Role) -> bool:
        return any(g.role == role for g in self.grants)


class RoleGrant(Base):
    """A role plus the customer it applies to (none for back office)."""

    __tablename__ = "role_grants"
    __table_args__ = (
        UniqueConstraint("user_id", "role", "customer_id", name="uq_role_grants_user_role_customer"),
        CheckConstraint(
            "(role = 'back_office') = (customer_id IS NULL)", name="customer_unless_back_office"
        ),
        Index("ix_role_grants_customer_role", "customer_id", "role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))

    user: Mapped[User] = relationship(back_populates="grants")
    customer: Mapped[Customer | None] = relationship(lazy="joined")
