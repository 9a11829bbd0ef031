"""Factories for test data beyond the demo data; each returns flushed objects."""

from __future__ import annotations

import itertools

from sqlalchemy.orm import Session

from webapp.models import Customer, Licence, ProductLine, Role, RoleGrant, Tenant, User
from webapp.services import demo

_seq = itertools.count(1)


def customer(session: Session, line: ProductLine = ProductLine.IPFONIE, **kw) -> Customer:
    n = next(_seq)
    c = Customer(number=kw.pop("number", f"K-9{n:05d}"), name=kw.pop("name", f"Testkunde {n}"),
                 product_line=line, **kw)
    session.add(c)
    session.flush()
    return c


def user(session: Session, email: str | None = None, password: str | None = "secret-password-1",
         roles: list[tuple[Role, Customer | None]] = (), **kw) -> User:
    n = next(_seq)
    u = demo.add_user(session, email or f"user{n}@test.example", password, f"User {n}", **kw)
    session.flush()
    for role, cust in roles:
        session.add(RoleGrant(user_id=u.id, role=role, customer_id=cust.id if cust else None))
    session.flush()
    session.refresh(u)
    return u


def contract(session: Session, cust: Customer, licences: int = 3, numbers: int = 10,
             number: str | None = None):
    """A contract with one site of ``numbers`` extensions and ``licences`` UMS licences."""
    from webapp.models import Contract

    n = next(_seq)
    c = Contract(number=number or f"V-9{n:05d}", customer_id=cust.id, min_term_months=24,
                 voice_channels=4)
    session.add(c)
    session.flush()
    session.add_all(Licence(contract_id=c.id) for _ in range(licences))
    site = demo.add_site(session, c, f"Standort {n}", f"+4969{n:07d}", 0, numbers - 1)
    session.flush()
    return c, site


def tenant(session: Session, name: str = "Testmandant", parent: Tenant | None = None) -> Tenant:
    t = Tenant(name=name, parent_id=parent.id if parent else None)
    session.add(t)
    session.flush()
    return t
