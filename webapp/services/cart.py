"""The Warenkorb: one per user and customer, kept in the database (it survives sign-out).

Lines are grouped by trunk: a new trunk (bundle or single trunk) or an existing contract put in
by „Nachbestellung“, each with its voice channels and „Unified Messaging Paket“ lines. A child
line's term is its trunk's (the database carries it over, see ``models.orders``); a removed trunk
takes its children with it, and a removal can be undone until the next change.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ..models import (
    Cart,
    CartItem,
    Contract,
    Customer,
    Product,
    ProductKind,
    User,
    utcnow,
)
from ..models.orders import TRUNK_KINDS
from . import authz, catalogue
from .contracts import LicenceLine, licence_lines
from .errors import AccessDenied, NotFound, ValidationFailed
from .profiles import valid_id

# --- which customer the user orders for --------------------------------------------------------


def ordering_customers(session: Session, user: User, visible: list[Customer] | None = None) -> list[Customer]:
    """Customers whose cart the user may fill (admins of the customer, holders of its order
    permission; reseller staff only for their own end customers; never tenants or back office).
    ``visible``: the user's ``authz.customers_visible`` when the caller has them already."""
    if authz.is_back_office(user) or user.tenant_id is not None:
        return []
    if visible is None:
        visible = authz.customers_visible(session, user)
    return [c for c in visible if authz.can_fill_cart(session, user, c)]


def customer_for(session: Session, user: User, wanted_id: int | None) -> Customer:
    """The customer to order for: the wanted one if the user may, else the first; refused if none."""
    customers = ordering_customers(session, user)
    if not customers:
        raise AccessDenied(_no_customer_reason(user))
    for c in customers:
        if c.id == wanted_id:
            return c
    return customers[0]


def _no_customer_reason(user: User) -> str:
    if user.tenant_id is not None:
        return _l("Tenants and sub-tenants cannot order; the customer orders for itself.")
    if authz.is_back_office(user):
        return _l("The back office provisions orders; it does not place them.")
    return _l("The Bestellsystem needs an administrator role or the order permission for a customer.")


# --- reading ----------------------------------------------------------------------------------


@dataclass
class Line:
    item: CartItem
    name: str
    monthly_cents: int = 0
    one_off_cents: int = 0

    @property
    def quantity(self) -> int:
        return self.item.quantity

    @property
    def kind(self) -> ProductKind | None:
        return self.item.product.kind if self.item.product else None


@dataclass
class Group:
    """A trunk and the lines attached to it."""

    trunk: Line
    children: list[Line] = field(default_factory=list)
    licences: LicenceLine | None = None

    @property
    def is_new(self) -> bool:
        return self.trunk.item.contract_id is None

    @property
    def voice_channels(self) -> int:
        included = self.trunk.item.voice_channels or 0
        return included + sum(c.quantity for c in self.children if c.kind == ProductKind.VOICE_CHANNELS)

    @property
    def missing_voice_channels(self) -> bool:
        return self.is_new and self.voice_channels == 0

    @property
    def ums_packages(self) -> int:
        return sum(c.quantity for c in self.children if c.kind == ProductKind.UMS_PACKAGE)


@dataclass
class CartView:
    customer: Customer
    cart: Cart | None
    groups: list[Group]
    removed: list[Line]

    @property
    def lines(self) -> list[Line]:
        return [line for g in self.groups for line in (g.trunk, *g.children)]

    @property
    def count(self) -> int:
        return len(self.lines)

    @property
    def totals(self) -> catalogue.Totals:
        return catalogue.totals(self.lines)

    @property
    def token(self) -> str:
        return self.cart.token if self.cart and self.cart.token else ""

    @property
    def trunks(self) -> list[Group]:
        return self.groups


def get_cart(session: Session, user: User, customer: Customer, *, create: bool = False,
             lock: bool = False) -> Cart | None:
    query = select(Cart).where(Cart.user_id == user.id, Cart.customer_id == customer.id)
    if lock:  # and what another request committed while we waited, not what this session read before
        query = query.with_for_update().execution_options(populate_existing=True)
    cart = session.scalar(query)
    if cart is None and create:
        cart = Cart(user_id=user.id, customer_id=customer.id, token=secrets.token_hex(16))
        session.add(cart)
        session.flush()
    return cart


def _line(item: CartItem) -> Line:
    if item.product is None:  # an existing contract (Nachbestellung): nothing to pay for the trunk
        contract = item.contract
        return Line(item, f"{contract.product_name} {contract.number}")
    return Line(item, item.product.name, item.product.monthly_price_cents, item.product.one_off_price_cents)


def view(session: Session, user: User, customer: Customer) -> CartView:
    """The cart in a fixed number of queries, whatever the number of lines."""
    cart = get_cart(session, user, customer)
    if cart is None:
        return CartView(customer, None, [], [])
    items = list(session.scalars(
        select(CartItem).where(CartItem.cart_id == cart.id)
        .options(selectinload(CartItem.contract)).order_by(CartItem.id)))
    groups: dict[int, Group] = {}
    removed: list[Line] = []
    for item in items:
        if item.parent_id is None:
            if item.removed_at is None:
                groups[item.id] = Group(_line(item))
            else:
                removed.append(_line(item))
    for item in items:
        if item.parent_id in groups and item.removed_at is None:
            groups[item.parent_id].children.append(_line(item))
    lines = licence_lines(session, [g.trunk.item.contract_id for g in groups.values() if not g.is_new])
    for g in groups.values():
        if not g.is_new:
            g.licences = lines[g.trunk.item.contract_id]
    return CartView(customer, cart, list(groups.values()), removed)


def count(session: Session, user: User, customer: Customer | None) -> int:
    """Lines in the cart (the number on the cart icon)."""
    if customer is None:
        return 0
    return session.scalar(
        select(func.count()).select_from(CartItem).join(Cart, Cart.id == CartItem.cart_id)
        .where(Cart.user_id == user.id, Cart.customer_id == customer.id, CartItem.removed_at.is_(None))) or 0


def trunk_choices(session: Session, user: User, customer: Customer, *, new_only: bool = False) -> list[Group]:
    """The trunks in the cart an option can attach to."""
    return [g for g in view(session, user, customer).groups if g.is_new or not new_only]


# --- parsing ----------------------------------------------------------------------------------


def parse_quantity(raw, maximum: int, field_name: str = "quantity") -> int:
    text = str(raw if raw is not None else "").strip()
    if not text or not text.lstrip("-").isdigit() or len(text) > 9:
        if text.lstrip("-").isdigit():
            raise ValidationFailed(_l("At most %(max)d, please.", max=maximum), field=field_name)
        raise ValidationFailed(_l("Please enter a whole number."), field=field_name)
    value = int(text)
    if value < 1:
        raise ValidationFailed(_l("Please enter at least 1."), field=field_name)
    if value > maximum:
        raise ValidationFailed(_l("At most %(max)d, please.", max=maximum), field=field_name)
    return value


def parse_term(raw) -> int:
    try:
        term = int(str(raw))
    except ValueError:
        term = 0
    if term not in catalogue.TERMS:
        raise ValidationFailed(_l("Please choose a minimum term of 12, 24 or 36 months."), field="term")
    return term


def max_for(product: Product) -> int:
    return catalogue.MAX_VOICE_CHANNELS if product.kind == ProductKind.VOICE_CHANNELS else catalogue.MAX_UMS_PACKAGES


# --- writing ----------------------------------------------------------------------------------


def _changed(session: Session, cart: Cart, *, purge_removed: bool = True) -> None:
    """A new token for the new content; the removed lines kept for undo go at the next change."""
    cart.token = secrets.token_hex(16)
    if purge_removed:
        gone = [i for i in cart.items if i.removed_at is not None]
        for item in sorted(gone, key=lambda i: i.parent_id is None):  # options before their trunk
            session.delete(item)
            session.flush()
    session.flush()


def _own_item(session: Session, user: User, customer: Customer, item_id) -> tuple[Cart, CartItem]:
    cart = get_cart(session, user, customer, lock=True)
    item = session.get(CartItem, item_id, populate_existing=True) if valid_id(item_id) else None
    if cart is None or item is None or item.cart_id != cart.id:
        raise NotFound(_l("This line is no longer in the cart."))
    return cart, item


def add_existing_trunk(session: Session, user: User, contract: Contract) -> CartItem:
    """„Nachbestellung“: the contract's trunk into the cart (once)."""
    customer = contract.customer
    authz.can_fill_cart(session, user, customer).require()
    cart = get_cart(session, user, customer, create=True, lock=True)
    for item in cart.items:
        if item.contract_id == contract.id and item.parent_id is None:
            if item.removed_at is not None:
                item.removed_at = None
            _changed(session, cart)
            return item
    item = CartItem(cart=cart, contract_id=contract.id, product_id=None, quantity=1,
                    min_term_months=contract.min_term_months, kombi_option=contract.kombi_option)
    session.add(item)
    _changed(session, cart)
    return item


def add_trunk(session: Session, user: User, customer: Customer, product: Product, *, term, kombi: bool) -> CartItem:
    """A new SIP trunk (bundle or single trunk) with its minimum term and Kombi-Option."""
    authz.can_fill_cart(session, user, customer).require()
    if product.kind not in TRUNK_KINDS or product.product_line != customer.product_line:
        raise NotFound(_l("This product does not exist or cannot be ordered."))
    months = parse_term(term)
    cart = get_cart(session, user, customer, create=True, lock=True)
    item = CartItem(cart=cart, product_id=product.id, quantity=1, min_term_months=months,
                    kombi_option=bool(kombi), voice_channels=product.default_voice_channels)
    session.add(item)
    _changed(session, cart)
    return item


def add_option(session: Session, user: User, customer: Customer, product: Product, *, trunk_id,
               quantity) -> CartItem:
    """Voice channels or „Unified Messaging Paket“ on a trunk in the cart; the term is the trunk's.
    The same product on the same trunk again adds to its quantity."""
    authz.can_fill_cart(session, user, customer).require()
    if product.kind not in (ProductKind.UMS_PACKAGE, ProductKind.VOICE_CHANNELS) \
            or product.product_line != customer.product_line:
        raise NotFound(_l("This product does not exist or cannot be ordered."))
    amount = parse_quantity(quantity, max_for(product))
    cart = get_cart(session, user, customer, create=True, lock=True)
    trunk = session.get(CartItem, trunk_id, populate_existing=True) if valid_id(trunk_id) else None
    if trunk is None or trunk.cart_id != cart.id or trunk.parent_id is not None or trunk.removed_at is not None:
        raise ValidationFailed(_l("Please choose a SIP trunk in your cart."), field="trunk_id")
    if product.kind == ProductKind.VOICE_CHANNELS and trunk.contract_id is not None:
        raise ValidationFailed(_l("Voice channels can be ordered here for a new SIP trunk only."), field="trunk_id")
    existing = next((i for i in cart.items if i.parent_id == trunk.id and i.product_id == product.id
                     and i.removed_at is None), None)
    if existing is not None:
        if existing.quantity + amount > max_for(product):
            raise ValidationFailed(_l("At most %(max)d, please.", max=max_for(product)), field="quantity")
        existing.quantity += amount
        _changed(session, cart)
        return existing
    item = CartItem(cart=cart, product_id=product.id, parent_id=trunk.id, quantity=amount,
                    min_term_months=trunk.min_term_months, kombi_option=False)
    session.add(item)
    _changed(session, cart)
    return item


def set_quantity(session: Session, user: User, customer: Customer, item_id, quantity) -> CartItem:
    cart, item = _own_item(session, user, customer, item_id)
    if item.parent_id is None or item.product is None:
        raise ValidationFailed(_l("A SIP trunk is ordered once; remove it if it is not needed."), field="quantity")
    item.quantity = parse_quantity(quantity, max_for(item.product))
    _changed(session, cart)
    return item


def set_term(session: Session, user: User, customer: Customer, item_id, term) -> CartItem:
    """The minimum term of a new trunk; its options follow it (ON UPDATE CASCADE)."""
    cart, item = _own_item(session, user, customer, item_id)
    if item.parent_id is not None or item.contract_id is not None:
        raise ValidationFailed(_l("The term of this line is its SIP trunk's."), field="term")
    item.min_term_months = parse_term(term)
    _changed(session, cart)
    session.refresh(item)
    return item


def remove(session: Session, user: User, customer: Customer, item_id) -> CartItem:
    """Remove a line; a trunk takes its options along (never a UMS package without its trunk)."""
    cart, item = _own_item(session, user, customer, item_id)
    _changed(session, cart)  # earlier removals are final now
    now = utcnow()
    item.removed_at = now
    for child in cart.items:
        if child.parent_id == item.id:
            child.removed_at = now
    session.flush()
    return item


def restore(session: Session, user: User, customer: Customer, item_id) -> CartItem:
    """Undo the last removal."""
    cart, item = _own_item(session, user, customer, item_id)
    if item.removed_at is None:
        return item
    stamp = item.removed_at
    for line in cart.items:
        if line.id == item.id or (line.parent_id == item.id and line.removed_at == stamp):
            line.removed_at = None
    if item.parent_id is not None:
        parent = session.get(CartItem, item.parent_id)
        if parent is None or parent.removed_at is not None:
            raise NotFound(_l("This line is no longer in the cart."))
    _changed(session, cart, purge_removed=False)
    return item
