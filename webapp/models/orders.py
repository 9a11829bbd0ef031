"""Ordering: product catalogue, carts (Warenkorb) and placed orders."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow
from .org import ProductLine, str_enum


class ProductKind(enum.StrEnum):
    SIP_TRUNK = "sip_trunk"
    SIP_BUNDLE = "sip_bundle"
    UMS_PACKAGE = "ums_package"
    VOICE_CHANNELS = "voice_channels"


TRUNK_KINDS = (ProductKind.SIP_TRUNK, ProductKind.SIP_BUNDLE)


class OrderStatus(enum.StrEnum):
    PLACED = "placed"
    PROVISIONED = "provisioned"
    REFUSED = "refused"


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[ProductKind] = mapped_column(str_enum(ProductKind, "product_kind"))
    product_line: Mapped[ProductLine] = mapped_column(
        str_enum(ProductLine, "product_line"), default=ProductLine.IPFONIE, server_default="ipfonie")
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(String(300), default="", server_default="")
    default_voice_channels: Mapped[int | None] = mapped_column(Integer)
    monthly_price_cents: Mapped[int] = mapped_column(Integer, default=0)
    one_off_price_cents: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sort_order: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def is_trunk(self) -> bool:
        return self.kind in TRUNK_KINDS


class Cart(Base):
    """The open Warenkorb of one user for one customer. ``token`` names the cart's current
    content: „Beauftragen“ posts it, so a second post of the same content finds the order made."""

    __tablename__ = "carts"
    __table_args__ = (UniqueConstraint("user_id", "customer_id", name="uq_carts_user_customer"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    token: Mapped[str | None] = mapped_column(String(32))

    items: Mapped[list[CartItem]] = relationship(
        back_populates="cart", cascade="all, delete-orphan", order_by="CartItem.id"
    )


class _LineFields:
    """Columns shared by cart items and order items."""

    quantity: Mapped[int] = mapped_column(Integer, default=1)
    min_term_months: Mapped[int | None] = mapped_column(Integer)
    kombi_option: Mapped[bool] = mapped_column(Boolean, default=False)
    voice_channels: Mapped[int | None] = mapped_column(Integer)


def _line_constraints(table: str) -> tuple:
    """A child line (UMS package, voice channels) carries its trunk's term through a composite
    foreign key with ON UPDATE CASCADE: it can never differ from the trunk's, whatever is posted."""
    return (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("product_id IS NOT NULL OR contract_id IS NOT NULL", name="product_or_contract"),
        CheckConstraint("parent_id IS NULL OR min_term_months IS NOT NULL", name="child_has_term"),
        UniqueConstraint("id", "min_term_months", name=f"uq_{table}_id_term"),
        ForeignKeyConstraint(
            ["parent_id", "min_term_months"], [f"{table}.id", f"{table}.min_term_months"],
            name=f"fk_{table}_parent_term", onupdate="CASCADE", ondelete="CASCADE",
        ),
    )


class CartItem(_LineFields, Base):
    """A trunk (new, or an existing contract for a Nachbestellung) or UMS packages / voice
    channels attached to one (``parent_id``). ``removed_at`` marks a removal that can be undone."""

    __tablename__ = "cart_items"
    __table_args__ = _line_constraints("cart_items")

    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("cart_items.id", ondelete="CASCADE"))
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    cart: Mapped[Cart] = relationship(back_populates="items")
    product: Mapped[Product | None] = relationship(lazy="joined")
    contract: Mapped[Contract | None] = relationship()  # noqa: F821


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    placed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[OrderStatus] = mapped_column(
        str_enum(OrderStatus, "order_status"), default=OrderStatus.PLACED
    )
    submission_key: Mapped[str | None] = mapped_column(String(32), unique=True)
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refusal_reason: Mapped[str | None] = mapped_column(String(500))

    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderItem.id"
    )
    customer: Mapped[Customer] = relationship()  # noqa: F821
    placed_by: Mapped[User | None] = relationship(foreign_keys=[placed_by_id])  # noqa: F821


class OrderItem(_LineFields, Base):
    """A line of a placed order with a snapshot of the product's name and prices."""

    __tablename__ = "order_items"
    __table_args__ = _line_constraints("order_items")

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("order_items.id", ondelete="CASCADE"))
    product_name: Mapped[str] = mapped_column(String(120), default="", server_default="")
    product_kind: Mapped[str | None] = mapped_column(String(32))
    monthly_price_cents: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    one_off_price_cents: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    order: Mapped[Order] = relationship(back_populates="items")
    product: Mapped[Product | None] = relationship(lazy="joined")
    contract: Mapped[Contract | None] = relationship(foreign_keys=[contract_id])  # noqa: F821
