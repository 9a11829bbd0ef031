"""Contracts a user may see („Aktive Verträge“) with their licence line, and orders to provision."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ..models import Contract, Licence, Order, OrderStatus, UmsProfile, User
from . import authz


@dataclass(frozen=True)
class LicenceLine:
    used: int
    total: int

    @property
    def free(self) -> int:
        return max(self.total - self.used, 0)

    def __str__(self) -> str:
        return f"{self.used} / {self.total}"


@dataclass(frozen=True)
class ContractRow:
    contract: Contract
    licences: LicenceLine


def licence_lines(session: Session, contract_ids: list[int]) -> dict[int, LicenceLine]:
    """``used / total`` per contract in one query, whatever the number of contracts."""
    if not contract_ids:
        return {}
    total = select(func.count()).where(Licence.contract_id == Contract.id).scalar_subquery()
    used = select(func.count()).where(UmsProfile.contract_id == Contract.id).scalar_subquery()
    found = {cid: LicenceLine(u, t) for cid, u, t in session.execute(
        select(Contract.id, used, total).where(Contract.id.in_(contract_ids)))}
    return {cid: found.get(cid, LicenceLine(0, 0)) for cid in contract_ids}


def active_contracts(session: Session, user: User) -> list[ContractRow]:
    customer_ids = [c.id for c in authz.customers_visible(session, user)]
    contracts = session.scalars(
        select(Contract).where(Contract.customer_id.in_(customer_ids))
        .options(selectinload(Contract.sites), selectinload(Contract.customer))
        .order_by(Contract.number)
    ).all()
    lines = licence_lines(session, [c.id for c in contracts])
    return [ContractRow(c, lines[c.id]) for c in contracts]


def orders_to_provision(session: Session) -> list[Order]:
    return list(session.scalars(
        select(Order).where(Order.status == OrderStatus.PLACED).order_by(Order.placed_at)))
