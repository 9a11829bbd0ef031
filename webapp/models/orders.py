"""Ordering: product catalogue, carts (Warenkorb) and placed orders."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow
from .org import str_enum


class ProductKind(enum.StrEnum):
    SIP_TRUNK = "sip_trunk"
    SIP_BUNDLE = "sip_bundle"
    UMS_PACKAGE = "ums_package"


class OrderStatus(enum.StrEnum):
    PLACED = "placed"
    PROVISIONED = "provisioned"


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[ProductKind] = mapped_column(str_enum(ProductKind, "product_kind"))
    name: Mapped[str] = mapped_column(String(120))
    default_voice_channels: Mapped[int | None] = mapped_column(Integer)
    monthly_price_cents: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Cart(Base):
    """The open Warenkorb of one user for one customer."""

    __tablename__ = "carts"
    __table_args__ = (UniqueConstraint("user_id", "customer_id", name="uq_carts_user_customer"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    items: Mapped[list[CartItem]] = relationship(
        back_populates="cart", cascade="all, delete-orphan", order_by="CartItem.id"
    )


class _LineFields:
    """Columns shared by cart items and order items."""

    quantity: Mapped[int] = mapped_column(Integer, default=1)
    min_term_months: Mapped[int | None] = mapped_column(Integer)
    kombi_option: Mapped[bool] = mapped_column(Boolean, default=False)
    voice_channels: Mapped[int | None] = mapped_column(Integer)


class CartItem(_LineFields, Base):
    """A trunk (new, or an existing contract for a Nachbestellung) or UMS packages attached to one."""

    __tablename__ = "cart_items"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("cart_items.id", ondelete="CASCADE"))

    cart: Mapped[Cart] = relationship(back_populates="items")
    product: Mapped[Product] = relationship(lazy="joined")
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

    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderItem.id"
    )


class OrderItem(_LineFields, Base):
    __tablename__ = "order_items"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("order_items.id", ondelete="CASCADE"))

    order: Mapped[Order] = relationship(back_populates="items")
    product: Mapped[Product] = relationship(lazy="joined")
