"""Contracts a user may see („Aktive Verträge“) with their licence line, and one contract's page
(„Vertrag anzeigen“)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ..models import Contract, Licence, Site, UmsProfile, User
from . import authz
from .errors import NotFound


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


@dataclass(frozen=True)
class ContractDetails:
    """„Vertrag anzeigen“: the contract, its sites and number blocks, licence line and profiles."""

    contract: Contract
    licences: LicenceLine
    earliest_end: date
    profiles: list[UmsProfile] | None  # None: the user may not see the customer's UMS profiles
    reorder: authz.Decision


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def contract_details(session: Session, user: User, contract_id: int) -> ContractDetails:
    """A contract the user may see (404 otherwise), in a fixed number of queries."""
    from .profiles import valid_id

    contract = session.scalar(
        select(Contract).where(Contract.id == contract_id)
        .options(selectinload(Contract.sites).selectinload(Site.blocks), selectinload(Contract.customer))
    ) if valid_id(contract_id) else None
    if contract is None or not authz.can_view_customer(session, user, contract.customer):
        raise NotFound(_l("This contract does not exist or is not one of yours."))
    profiles = None
    if authz.can_manage_ums(session, user, contract.customer):
        profiles = list(session.scalars(
            select(UmsProfile).where(UmsProfile.contract_id == contract.id)
            .options(selectinload(UmsProfile.site))
            .order_by(UmsProfile.last_name, UmsProfile.first_name, UmsProfile.id)))
    return ContractDetails(
        contract=contract,
        licences=licence_lines(session, [contract.id])[contract.id],
        earliest_end=add_months(contract.started_at.date(), contract.min_term_months),
        profiles=profiles,
        reorder=authz.can_fill_cart(session, user, contract.customer),
    )
