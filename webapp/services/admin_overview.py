"""First version of the UMS-Administrator-Dashboard: the customers an admin may manage."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Customer, TenantCustomer, UmsProfile, User
from . import authz


@dataclass
class CustomerRow:
    customer: Customer
    profile_count: int


@dataclass
class Overview:
    customers: list[CustomerRow]
    refused: list[tuple[Customer, str]] = field(default_factory=list)


def overview(session: Session, user: User) -> Overview:
    allowed = authz.customers_with_ums_access(session, user)
    counts = dict(
        session.execute(
            select(UmsProfile.customer_id, func.count())
            .where(UmsProfile.customer_id.in_([c.id for c in allowed]))
            .group_by(UmsProfile.customer_id)
        ).all()
    )
    refused: list[tuple[Customer, str]] = []
    if user.tenant_id is not None:
        looked_after = session.scalars(
            select(Customer).join(TenantCustomer, TenantCustomer.customer_id == Customer.id)
            .where(TenantCustomer.tenant_id == user.tenant_id).order_by(Customer.number)
        )
        allowed_ids = {c.id for c in allowed}
        refused = [
            (c, authz.can_manage_ums(session, user, c).reason) for c in looked_after if c.id not in allowed_ids
        ]
    return Overview([CustomerRow(c, counts.get(c.id, 0)) for c in allowed], refused)
