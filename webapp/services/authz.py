"""The one place that decides who may do what (domain.md §1).

Every decision returns a ``Decision`` with a reason a customer understands; ``require_*``
raises ``AccessDenied(reason)``. Routes and services ask here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from ..models import (
    Customer,
    DataProcessingAgreement,
    ProductLine,
    Role,
    TenantCustomer,
    UmsProfile,
    User,
)
from .errors import AccessDenied, NotFound
from .memo import remember

ADMIN_ROLE_FOR_LINE = {
    ProductLine.IPFONIE: Role.IPFONIE_ADMIN,
    ProductLine.CENTRAFLEX: Role.CENTRAFLEX_ADMIN,
}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""
    # Outside the caller's scope: they are not to learn that the object exists (404, no reason
    # shown). A visible refusal (403 with the reason) only where they may know it exists.
    hidden: bool = False

    def __bool__(self) -> bool:
        return self.allowed

    def require(self) -> None:
        if not self.allowed:
            if self.hidden:
                raise NotFound(_l("This item does not exist or has been deleted."))
            raise AccessDenied(self.reason)


ALLOW = Decision(True)


def _deny(reason) -> Decision:
    return Decision(False, reason)


def _out_of_scope(reason) -> Decision:
    """A refusal that answers 404: the object is outside the caller's scope."""
    return Decision(False, reason, hidden=True)


def _knows_customer(session: Session, user: User, customer: Customer) -> bool:
    """The caller may know the customer exists: back office, any role of theirs names it, or
    their tenant looks after it."""
    if is_back_office(user) or any(g.customer_id == customer.id for g in user.grants):
        return True
    return _tenant_relation(session, user, customer)[0]


def _today() -> date:
    return date.today()


def _has_grant(user: User, role: Role, customer_id: int | None) -> bool:
    return any(g.role == role and g.customer_id == customer_id for g in user.grants)


def is_back_office(user: User) -> bool:
    return user.has_role(Role.BACK_OFFICE)


def can_manage_outbox(user: User) -> Decision:
    """Undeliverable mail and platform events (they name every customer's addresses): the
    carrier's back office only."""
    if user.is_authenticated and is_back_office(user):
        return ALLOW
    return _deny(_l("Only the carrier's back office sees undeliverable mail and events."))


def _admin_grant_valid(user: User, customer: Customer) -> Decision:
    """An admin grant of the right product line; for reseller staff, only for their end customer."""
    needed = ADMIN_ROLE_FOR_LINE[customer.product_line]
    if _has_grant(user, needed, customer.id):
        if user.reseller_id is not None and customer.reseller_id != user.reseller_id:
            return _deny(
                _l("Your reseller role applies only to your own end customers; %(customer)s is not one of them.",
                   customer=customer.number)
            )
        return ALLOW
    other = Role.CENTRAFLEX_ADMIN if needed == Role.IPFONIE_ADMIN else Role.IPFONIE_ADMIN
    if _has_grant(user, other, customer.id):
        if needed == Role.CENTRAFLEX_ADMIN:
            return _deny(
                _l("%(customer)s is a Centraflex customer: this needs the role „Kunde – Centraflex Administrator“; your „Kunde – IPfonie Administrator“ role does not apply.",
                   customer=customer.number)
            )
        return _deny(
            _l("%(customer)s is an IPfonie customer: this needs the role „Kunde – IPfonie Administrator“; your „Kunde – Centraflex Administrator“ role does not apply.",
               customer=customer.number)
        )
    return Decision(False, "")


def _tenant_ids(user: User) -> list[int]:
    """The user's tenant and, for a sub-tenant, its parent: a sub-tenant acts through both."""
    if user.tenant_id is None:
        return []
    if user.tenant and user.tenant.parent_id:
        return [user.tenant_id, user.tenant.parent_id]
    return [user.tenant_id]


def _tenant_relation(session: Session, user: User, customer: Customer) -> tuple[bool, bool]:
    """(looks after this customer, has an active AVV) for tenant staff, incl. parent tenants' AVVs."""
    found = _tenant_customers(session, user).get(customer.id)
    return (True, found[1]) if found else (False, False)


def _user_key(user: User) -> tuple:
    """What a user's permissions depend on, as a memo key (grants changed in memory count too)."""
    return (user.id, user.tenant_id, user.reseller_id,
            frozenset((g.role, g.customer_id) for g in user.grants))


def _tenant_customers(session: Session, user: User) -> dict[int, tuple[Customer, bool]]:
    """The customers tenant staff look after (through their tenant or its parent), by number,
    each with whether an AVV is in force with one of those tenants: one query for all."""
    tenant_ids = _tenant_ids(user)
    if not tenant_ids:
        return {}
    today = _today()
    has_avv = exists().where(
        DataProcessingAgreement.customer_id == Customer.id,
        DataProcessingAgreement.tenant_id.in_(tenant_ids),
        DataProcessingAgreement.signed_on <= today,
        or_(DataProcessingAgreement.ended_on.is_(None), DataProcessingAgreement.ended_on > today),
    )
    looked_after = select(TenantCustomer.customer_id).where(TenantCustomer.tenant_id.in_(tenant_ids))
    return remember(session, ("tenant_customers", _user_key(user), today), lambda: {
        customer.id: (customer, bool(avv)) for customer, avv in session.execute(
            select(Customer, has_avv).where(Customer.id.in_(looked_after)).order_by(Customer.number))})


def looked_after_customers(session: Session, user: User) -> list[Customer]:
    """The customers tenant staff look after (through their tenant or its parent), by number."""
    return [customer for customer, _avv in _tenant_customers(session, user).values()]


def _related_customers(session: Session, user: User) -> list[Customer]:
    """Customers the user holds a grant for (loaded with the grants) or looks after, by number."""
    grants = [g for g in user.grants if g.customer_id is not None]
    found = {g.customer_id: g.customer for g in grants if g.customer is not None}  # joined-loaded
    missing = {g.customer_id for g in grants} - found.keys()  # grants not flushed yet
    if missing:
        found.update((c.id, c) for c in session.scalars(select(Customer).where(Customer.id.in_(missing))))
    found.update((c.id, c) for c in looked_after_customers(session, user))
    return sorted(found.values(), key=lambda c: c.number)


def can_view_customer(session: Session, user: User, customer: Customer) -> Decision:
    """Read the customer's contracts and orders."""
    if is_back_office(user) or _admin_grant_valid(user, customer):
        return ALLOW
    if _has_grant(user, Role.ORDER_PERMISSION, customer.id):
        return ALLOW
    looks_after, _ = _tenant_relation(session, user, customer)
    if looks_after:
        return ALLOW
    return _out_of_scope(_l("You have no role for customer %(customer)s.", customer=customer.number))


def can_manage_ums(session: Session, user: User, customer: Customer) -> Decision:
    """Create, edit and delete the customer's UMS profiles, assign numbers, run their services."""
    decision = _admin_grant_valid(user, customer)
    if decision or decision.reason:
        return decision
    looks_after, has_avv = _tenant_relation(session, user, customer)
    if looks_after:
        if has_avv:
            return ALLOW
        return _deny(
            _l("For data protection reasons, tenants and sub-tenants may only create or manage UMS profiles of %(customer)s once a data processing agreement (Auftragsverarbeitungsvertrag, AVV) with this customer is on record.",
               customer=customer.number)
        )
    if is_back_office(user):
        return _deny(_l("Back office staff provision contracts; UMS profiles are managed by the customer."))
    needed = ADMIN_ROLE_FOR_LINE[customer.product_line]
    label = _l("Kunde – IPfonie Administrator") if needed == Role.IPFONIE_ADMIN else _l(
        "Kunde – Centraflex Administrator")
    refuse = _deny if _knows_customer(session, user, customer) else _out_of_scope
    return refuse(
        _l("Managing UMS profiles of %(customer)s needs the role „%(role)s“ for this customer.",
           customer=customer.number, role=label)
    )


def can_use_profile(session: Session, user: User, profile: UmsProfile) -> Decision:
    """Use the services of a profile: its owner, or someone who may manage the customer's UMS."""
    if profile.user_id == user.id and _has_grant(user, Role.UMS_USER, profile.customer_id):
        remember(session, ("own_profile", user.id), lambda: profile)  # no query for it again
        return ALLOW
    decision = can_manage_ums(session, user, profile.customer)
    if not decision and _is_plain_ums_user(user):  # another user's profile is outside their scope
        return _out_of_scope(_l("As a UMS user you can only use your own UMS profile."))
    return decision


def _is_plain_ums_user(user: User) -> bool:
    return user.tenant_id is None and all(g.role == Role.UMS_USER for g in user.grants) and bool(user.grants)


def can_order(session: Session, user: User, customer: Customer) -> Decision:
    """Place orders („Beauftragen“) for the customer. Tenants never order; reseller staff only for
    their own end customer, with that customer's administrator role and order permission."""
    if user.tenant_id is not None:
        return _deny(_l("Tenants and sub-tenants cannot place orders („Beauftragen“) for %(customer)s: that needs the customer's own order permission (Bestellberechtigung).",
                        customer=customer.number))
    if _has_grant(user, Role.ORDER_PERMISSION, customer.id):
        if user.reseller_id is not None and not _admin_grant_valid(user, customer):
            return _deny(_l("Resellers order for an end customer only with the role „Kunde – IPfonie Administrator“ and the order permission for that end customer."))
        return ALLOW
    return _deny(
        _l("Placing the order („Beauftragen“) needs the order permission (Bestellberechtigung) for %(customer)s. You can fill the cart; someone with that permission can place it.",
           customer=customer.number)
    )


def can_fill_cart(session: Session, user: User, customer: Customer) -> Decision:
    if user.tenant_id is not None:
        return _deny(_l("Tenants and sub-tenants cannot order for %(customer)s; the customer orders for itself.",
                        customer=customer.number))
    if _has_grant(user, Role.ORDER_PERMISSION, customer.id) or _admin_grant_valid(user, customer):
        return ALLOW
    return _deny(_l("Ordering for %(customer)s needs an administrator role for this customer.",
                    customer=customer.number))


def can_provision(user: User) -> Decision:
    if is_back_office(user):
        return ALLOW
    return _deny(_l("Only the carrier's back office provisions ordered SIP trunks."))


def customers_with_ums_access(session: Session, user: User) -> list[Customer]:
    """Every customer whose UMS profiles the user may manage (for lists and filters)."""
    return list(remember(session, ("ums_access", _user_key(user)), lambda: [
        c for c in _related_customers(session, user) if can_manage_ums(session, user, c)]))


def can_administer_ums(session: Session, user: User) -> Decision:
    """Reach the UMS-Administrator-Dashboard at all: someone who may manage some customer's UMS,
    or tenant staff (who are shown why they may not, per customer). Never a plain UMS user."""
    if customers_with_ums_access(session, user) or user.tenant_id is not None:
        return ALLOW
    if _is_plain_ums_user(user):
        return _deny(_l("As a UMS user you can only use your own UMS profile."))
    return _deny(
        _l("The UMS administration needs the role „Kunde – IPfonie Administrator“ or „Kunde – Centraflex Administrator“ for a customer.")
    )


def customers_visible(session: Session, user: User) -> list[Customer]:
    """Customers whose contracts the user may see."""
    if is_back_office(user):
        return list(remember(session, ("all_customers",), lambda: list(
            session.scalars(select(Customer).order_by(Customer.number)))))
    return list(remember(session, ("visible", _user_key(user)), lambda: [
        c for c in _related_customers(session, user) if can_view_customer(session, user, c)]))


def can_view_contracts(session: Session, user: User) -> Decision:
    """Open „Aktive Verträge“ at all: someone who may see some customer's contracts."""
    if customers_visible(session, user):
        return ALLOW
    if _is_plain_ums_user(user):
        return _deny(_l("As a UMS user you can only use your own UMS profile."))
    return _deny(_l("„Aktive Verträge“ needs an administrator role or the order permission for a customer."))


def own_profile(session: Session, user: User) -> UmsProfile | None:
    if not user.has_role(Role.UMS_USER):
        return None
    return remember(session, ("own_profile", user.id), lambda: session.scalar(
        select(UmsProfile).where(UmsProfile.user_id == user.id)))


def require(decision: Decision) -> None:
    decision.require()


__all__ = [
    "Decision",
    "can_administer_ums",
    "can_fill_cart",
    "can_manage_ums",
    "can_order",
    "can_provision",
    "can_use_profile",
    "can_view_contracts",
    "can_view_customer",
    "customers_visible",
    "customers_with_ums_access",
    "is_back_office",
    "looked_after_customers",
    "own_profile",
    "require",
]
