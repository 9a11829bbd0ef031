"""„Beauftragen“: a cart becomes an order in one transaction — a readable number, a snapshot of
lines and prices, licences at once for UMS packages on existing trunks, the audit entry and the
confirmation mail. The cart's token makes placing idempotent: a double click, a second tab or a
replay of the same post finds the order already made. Also „Meine Bestellungen“."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from ..models import (
    CartItem,
    Customer,
    Licence,
    Order,
    OrderItem,
    OrderStatus,
    ProductKind,
    User,
    utcnow,
)
from . import audit, authz, catalogue, mail, platform
from . import cart as cart_service
from .errors import DomainError, NotFound
from .profiles import valid_id

PER_PAGE = 20

STATUS_LABELS = {
    OrderStatus.PLACED: _l("Waiting for provisioning"),
    OrderStatus.PROVISIONED: _l("Done"),
    OrderStatus.REFUSED: _l("Refused"),
}


class CartChanged(DomainError):
    status = 409


@dataclass
class OrderLine:
    item: OrderItem

    @property
    def quantity(self) -> int:
        return self.item.quantity

    @property
    def monthly_cents(self) -> int:
        return self.item.monthly_price_cents

    @property
    def one_off_cents(self) -> int:
        return self.item.one_off_price_cents


def order_totals(order: Order) -> catalogue.Totals:
    return catalogue.totals([OrderLine(i) for i in order.items])


def groups(order: Order) -> list[tuple[OrderItem, list[OrderItem]]]:
    """The order's lines grouped by trunk, as in the cart."""
    trunks = [i for i in order.items if i.parent_id is None]
    return [(t, [c for c in order.items if c.parent_id == t.id]) for t in trunks]


def _order_number() -> str:
    return f"B-{utcnow():%y%m}-{secrets.randbelow(10**6):06d}"


def place(session: Session, user: User, customer: Customer, token: str | None) -> Order:
    """Place the user's cart for ``customer``. Refused without order permission (nothing stored)."""
    authz.can_order(session, user, customer).require()
    token = str(token or "")
    if not re.fullmatch(r"[0-9a-f]{32}", token):  # only a cart token names a cart's content
        token = ""
    cart = cart_service.get_cart(session, user, customer, lock=True)  # serialises placing per cart
    if token:
        done = session.scalar(select(Order).where(Order.submission_key == token))
        if done is not None and done.customer_id == customer.id and done.placed_by_id == user.id:
            return done
    current = cart_service.view(session, user, customer)
    if cart is None or not current.groups:
        raise CartChanged(_l("Your cart is empty."))
    if not token or token != cart.token:
        raise CartChanged(_l("Your cart has changed since this page was opened. Please check it and place the order again."))

    order = Order(number=_order_number(), customer_id=customer.id, placed_by_id=user.id, submission_key=token)
    session.add(order)
    session.flush()
    immediate: list[tuple[OrderItem, int]] = []
    for group in current.groups:
        trunk = _snapshot(order, group.trunk, None)
        session.add(trunk)
        session.flush()
        for child in group.children:
            line = _snapshot(order, child, trunk)
            session.add(line)
            if not group.is_new and child.kind == ProductKind.UMS_PACKAGE:
                immediate.append((line, trunk.contract_id))
    session.flush()

    for line, contract_id in immediate:  # UMS packages on an existing trunk: licences at once
        session.add_all(Licence(contract_id=contract_id, order_id=order.id, order_item_id=line.id, position=n)
                        for n in range(1, line.quantity + 1))
        platform.emit(session, "licences.added", contract_id=contract_id, order=order.number, count=line.quantity)
    if all(not g.is_new for g in current.groups):
        order.status = OrderStatus.PROVISIONED
        order.handled_at = utcnow()

    session.execute(delete(CartItem).where(CartItem.cart_id == cart.id, CartItem.parent_id.is_not(None)))
    session.execute(delete(CartItem).where(CartItem.cart_id == cart.id))
    session.expire(cart, ["items"])
    cart.token = secrets.token_hex(16)
    session.flush()
    session.refresh(order)
    audit.record(session, user, "order.placed", customer_id=customer.id, subject=order.number,
                 order=order.number, lines=len(order.items))
    mail.queue(session, user.email, "order_confirmation", locale=user.locale or "de",
               subject=_l("Order confirmation %(number)s", number=order.number),
               order=order, groups=groups(order), totals=order_totals(order), money=catalogue.money,
               customer=customer)
    return order


def _snapshot(order: Order, line: cart_service.Line, parent: OrderItem | None) -> OrderItem:
    item = line.item
    return OrderItem(
        order=order, product_id=item.product_id, contract_id=item.contract_id,
        parent_id=parent.id if parent else None, quantity=item.quantity,
        min_term_months=parent.min_term_months if parent else item.min_term_months,
        kombi_option=item.kombi_option, voice_channels=item.voice_channels,
        product_name=line.name, product_kind=item.product.kind.value if item.product else None,
        monthly_price_cents=line.monthly_cents, one_off_price_cents=line.one_off_cents,
    )


@dataclass
class OrderPage:
    rows: list[Order]
    total: int
    page: int
    per_page: int = PER_PAGE

    @property
    def pages(self) -> int:
        return max((self.total + self.per_page - 1) // self.per_page, 1)


def my_orders(session: Session, user: User, page: int = 1) -> OrderPage:
    """„Meine Bestellungen“: the orders of every customer the user may order for, newest first."""
    ids = [c.id for c in cart_service.ordering_customers(session, user)]
    if not ids:
        return OrderPage([], 0, 1)
    where = Order.customer_id.in_(ids)
    total = session.scalar(select(func.count()).select_from(Order).where(where)) or 0
    result = OrderPage([], total, 1)
    result.page = min(max(page, 1), result.pages)
    result.rows = list(session.scalars(
        select(Order).where(where).options(selectinload(Order.items), selectinload(Order.customer))
        .order_by(Order.placed_at.desc(), Order.id.desc())
        .limit(PER_PAGE).offset((result.page - 1) * PER_PAGE)))
    return result


def order_for(session: Session, user: User, order_id) -> Order:
    """An order the user may see (404 otherwise, as if it did not exist)."""
    order = session.get(Order, order_id) if valid_id(order_id) else None
    if order is None or not (authz.is_back_office(user) or authz.can_view_customer(session, user, order.customer)):
        raise NotFound(_l("This order does not exist."))
    return order
