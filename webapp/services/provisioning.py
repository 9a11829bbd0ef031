"""Back office: open orders, provisioning a new SIP trunk into an active contract (number, term,
channels, sites with their number blocks, licences for its UMS packages) and refusing an order.

Both lock the order row, so two back-office users acting on one order make one contract; the
contract's unique ``source_order_item_id`` and the licences' unique (order line, position) back it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import phonenumbers
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from ..models import (
    Contract,
    Licence,
    NumberBlock,
    Order,
    OrderItem,
    OrderStatus,
    PhoneNumber,
    ProductKind,
    Site,
    User,
    utcnow,
)
from . import audit, authz, mail, platform
from .errors import DomainError, NotFound, ValidationFailed
from .profiles import printable, valid_id

MAX_BLOCK = 1000
SITES_PER_TRUNK = 2


class ProvisioningInvalid(ValidationFailed):
    """Several fields at once: ``errors`` maps field names to messages."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(_l("Please correct the marked fields."))
        self.errors = errors


class AlreadyHandled(DomainError):
    status = 409


@dataclass
class SiteInput:
    name: str = ""
    base: str = ""
    first: str = ""
    last: str = ""

    @property
    def empty(self) -> bool:
        return not (self.name.strip() or self.base.strip() or self.first.strip() or self.last.strip())


@dataclass
class TrunkInput:
    channels: str = ""
    sites: list[SiteInput] = field(default_factory=lambda: [SiteInput() for _ in range(SITES_PER_TRUNK)])


def open_orders(session: Session, actor: User) -> list[Order]:
    authz.can_provision(actor).require()
    return list(session.scalars(
        select(Order).where(Order.status == OrderStatus.PLACED)
        .options(selectinload(Order.items), selectinload(Order.customer), selectinload(Order.placed_by))
        .order_by(Order.placed_at, Order.id)))


def order_to_handle(session: Session, actor: User, order_id, *, lock: bool = False) -> Order:
    authz.can_provision(actor).require()
    order = None
    if valid_id(order_id):
        query = select(Order).where(Order.id == order_id)
        order = session.scalar(query.with_for_update() if lock else query)
    if order is None:
        raise NotFound(_l("This order does not exist."))
    if lock:
        session.refresh(order)  # what the other back-office user committed while we waited
    return order


def new_trunks(order: Order) -> list[OrderItem]:
    return [i for i in order.items if i.parent_id is None and i.contract_id is None]


def ordered_channels(order: Order, trunk: OrderItem) -> int:
    extra = sum(i.quantity for i in order.items
                if i.parent_id == trunk.id and i.product_kind == ProductKind.VOICE_CHANNELS.value)
    return (trunk.voice_channels or 0) + extra


def _require_open(order: Order) -> None:
    if order.status != OrderStatus.PLACED:
        raise AlreadyHandled(_l("Order %(number)s has already been handled (%(state)s).",
                                number=order.number, state=order.status.value))


def _e164(raw: str) -> str | None:
    text = printable(raw).strip()
    if not re.fullmatch(r"\+[0-9 /()-]{6,24}", text or "-"):
        return None
    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _int(raw: str) -> int | None:
    text = str(raw or "").strip()
    return int(text) if text.isdigit() and len(text) <= 6 else None


def _validate(session: Session, order: Order, inputs: dict[int, TrunkInput]):
    errors: dict[str, str] = {}
    plan: list[tuple[OrderItem, int, list[tuple[str, str, int, int]]]] = []
    wanted: dict[str, str] = {}  # e164 -> field, across the whole submission
    for trunk in new_trunks(order):
        given = inputs.get(trunk.id, TrunkInput())
        prefix = f"t{trunk.id}"
        channels = _int(given.channels)
        if channels is None or not 1 <= channels <= 1000:
            errors[f"{prefix}-channels"] = str(_l("Please enter the number of voice channels (1 to 1000)."))
        sites = []
        for n, site in enumerate(given.sites):
            key = f"{prefix}-s{n}"
            if n > 0 and site.empty:
                continue
            name = " ".join(printable(site.name).split())[:120]
            if not name:
                errors[f"{key}-name"] = str(_l("Please enter the name of the site."))
            elif any(name == s[0] for s in sites):
                errors[f"{key}-name"] = str(_l("Each site of a contract needs a name of its own."))
            base = _e164(site.base)
            if base is None:
                errors[f"{key}-base"] = str(_l("Please enter the base number in international format, e.g. +49 30 1234567."))
            first, last = _int(site.first), _int(site.last)
            if first is None or last is None or first > last or first > 9999 or last > 9999:
                errors[f"{key}-range"] = str(_l("Please enter the first and last extension (0 to 9999, first not after last)."))
            elif last - first + 1 > MAX_BLOCK:
                errors[f"{key}-range"] = str(_l("At most %(max)d extensions per block, please.", max=MAX_BLOCK))
            if f"{key}-base" in errors or f"{key}-range" in errors:
                continue
            numbers = [f"{base}{ext}" for ext in range(first, last + 1)]
            clash = next((e for e in numbers if e in wanted), None)
            if clash:
                errors[f"{key}-range"] = str(_l("This block overlaps another block of this order."))
                continue
            wanted.update(dict.fromkeys(numbers, f"{key}-range"))
            sites.append((name, base, first, last))
        plan.append((trunk, channels or 0, sites))
    if wanted:
        taken = set(session.scalars(select(PhoneNumber.e164).where(PhoneNumber.e164.in_(list(wanted)))))
        for e164 in sorted(taken):
            errors.setdefault(wanted[e164], str(_l("This block overlaps numbers that already exist (%(number)s).",
                                                   number=e164)))
    if errors:
        raise ProvisioningInvalid(errors)
    return plan


def _next_contract_number(session: Session) -> str:
    highest = session.scalar(select(func.max(Contract.number)).where(Contract.number.like("V-2_____")))
    return f"V-{int(highest[2:]) + 1 if highest else 200001}"


def _add_site(session: Session, contract: Contract, name: str, base: str, first: int, last: int) -> None:
    site = Site(contract=contract, name=name)
    block = NumberBlock(site=site, base_e164=base, first_extension=first, last_extension=last)
    session.add_all([site, block])
    session.flush()
    session.add_all(PhoneNumber(e164=f"{base}{ext}", site_id=site.id, block_id=block.id, extension=str(ext))
                    for ext in range(first, last + 1))


def provision(session: Session, actor: User, order_id, inputs: dict[int, TrunkInput]) -> list[Contract]:
    """Turn each new trunk of the order into an active contract; once per order."""
    order = order_to_handle(session, actor, order_id, lock=True)
    _require_open(order)
    plan = _validate(session, order, inputs)
    contracts: list[Contract] = []
    for trunk, channels, sites in plan:
        for attempt in range(5):  # two orders provisioned at once may pick the same next number
            try:
                with session.begin_nested():
                    contract = Contract(
                        number=_next_contract_number(session), customer_id=order.customer_id,
                        product_name=trunk.product_name, min_term_months=trunk.min_term_months,
                        kombi_option=trunk.kombi_option, voice_channels=channels,
                        source_order_id=order.id, source_order_item_id=trunk.id)
                    session.add(contract)
                    session.flush()
                break
            except IntegrityError:
                if attempt == 4:
                    raise
        try:
            with session.begin_nested():
                for name, base, first, last in sites:
                    _add_site(session, contract, name, base, first, last)
                session.flush()
        except IntegrityError:  # another order took some of these numbers at the same moment
            raise AlreadyHandled(_l("Some of these numbers were assigned elsewhere at the same moment. Please check the number blocks and try again.")) from None
        trunk.contract_id = contract.id
        licences = 0
        for option in order.items:
            if option.parent_id == trunk.id and option.product_kind == ProductKind.UMS_PACKAGE.value:
                session.add_all(Licence(contract_id=contract.id, order_id=order.id, order_item_id=option.id,
                                        position=n) for n in range(1, option.quantity + 1))
                licences += option.quantity
        session.flush()
        platform.emit(session, "contract.provisioned", contract=contract.number, customer_id=order.customer_id,
                      order=order.number, voice_channels=channels, licences=licences,
                      sites=[{"name": s[0], "base": s[1], "first": s[2], "last": s[3]} for s in sites])
        contracts.append(contract)
    order.status = OrderStatus.PROVISIONED
    order.handled_by_id = actor.id
    order.handled_at = utcnow()
    session.flush()
    audit.record(session, actor, "order.provisioned", customer_id=order.customer_id, subject=order.number,
                 contracts=[c.number for c in contracts])
    _notify(session, order, "order_provisioned", _l("Your order %(number)s is active", number=order.number),
            contracts=contracts)
    return contracts


def refuse(session: Session, actor: User, order_id, reason: str) -> Order:
    order = order_to_handle(session, actor, order_id, lock=True)
    _require_open(order)
    text = " ".join(printable(reason).split())
    if not text:
        raise ValidationFailed(_l("Please say why the order is refused; the customer reads it."), field="reason")
    if len(text) > 500:
        raise ValidationFailed(_l("At most 500 characters, please."), field="reason")
    order.status = OrderStatus.REFUSED
    order.refusal_reason = text
    order.handled_by_id = actor.id
    order.handled_at = utcnow()
    session.flush()
    audit.record(session, actor, "order.refused", customer_id=order.customer_id, subject=order.number, reason=text)
    _notify(session, order, "order_refused", _l("Your order %(number)s was refused", number=order.number))
    return order


def _notify(session: Session, order: Order, template: str, subject, **context) -> None:
    recipient = order.placed_by
    if recipient is None:
        return
    mail.queue(session, recipient.email, template, subject=subject, locale=recipient.locale or "de",
               order=order, **context)
