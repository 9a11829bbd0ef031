"""Demo data of domain.md §6, created idempotently by ``make run`` / ``flask --app webapp demo``.

Areas add their own demo content (messages, faxes, rooms) in ``demo_<area>.py`` modules listed
in ``EXTENSIONS``; each gets the session and the objects created here.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import (
    Contract,
    Customer,
    DataProcessingAgreement,
    Licence,
    NumberBlock,
    PhoneNumber,
    ProductLine,
    Reseller,
    Role,
    RoleGrant,
    Service,
    ServiceAssignment,
    Site,
    Tenant,
    TenantCustomer,
    UmsProfile,
    User,
    utcnow,
)
from .accounts import hash_password

ADMIN_PASSWORD = "demo-admin-2026"
USER_PASSWORD = "demo-user-2026"

EXTENSIONS: list[str] = ["demo_voicemail", "demo_orders", "demo_conference", "demo_fax"]


@dataclass
class DemoRefs:
    customers: dict[str, Customer] = field(default_factory=dict)
    contracts: dict[str, Contract] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    profiles: dict[str, UmsProfile] = field(default_factory=dict)


def add_site(session: Session, contract: Contract, name: str, base_e164: str, first: int, last: int) -> Site:
    site = Site(contract=contract, name=name)
    block = NumberBlock(site=site, base_e164=base_e164, first_extension=first, last_extension=last)
    session.add_all([site, block])
    session.flush()
    session.add_all(
        PhoneNumber(e164=f"{base_e164}{ext}", site_id=site.id, block_id=block.id, extension=str(ext))
        for ext in range(first, last + 1)
    )
    return site


def add_user(session: Session, email: str, password: str | None, name: str, **kw) -> User:
    user = User(email=email, display_name=name,
                password_hash=hash_password(password) if password else None,
                password_set_at=utcnow() if password else None, **kw)
    session.add(user)
    return user


def add_profile(session: Session, contract: Contract, site: Site, first: str, last: str, email: str,
                password: str | None, numbers: dict[Service, str] | None = None) -> UmsProfile:
    user = add_user(session, email, password, f"{first} {last}")
    session.flush()
    session.add(RoleGrant(user_id=user.id, role=Role.UMS_USER, customer_id=contract.customer_id))
    licence = session.scalar(
        select(Licence).where(Licence.contract_id == contract.id,
                              ~Licence.id.in_(select(UmsProfile.licence_id))).order_by(Licence.id)
    )
    profile = UmsProfile(customer_id=contract.customer_id, contract_id=contract.id, site_id=site.id,
                         licence_id=licence.id, user_id=user.id, first_name=first, last_name=last,
                         email=email, email_normalized=email.lower())
    session.add(profile)
    session.flush()
    for service, e164 in (numbers or {}).items():
        number = session.scalar(select(PhoneNumber).where(PhoneNumber.e164 == e164))
        session.add(ServiceAssignment(profile_id=profile.id, service=service, number_id=number.id,
                                      assigned_at=utcnow()))
    session.flush()
    return profile


def load(session: Session) -> bool:
    if session.scalar(select(Customer).where(Customer.number == "K-100001")) is not None:
        return False
    refs = DemoRefs()
    partner = Reseller(name="Partner Telekom GmbH")
    nord = Tenant(name="Mandant Nord")
    session.add_all([partner, nord])
    session.flush()

    muster = Customer(number="K-100001", name="Muster GmbH", product_line=ProductLine.IPFONIE)
    beispiel = Customer(number="K-100002", name="Beispiel AG", product_line=ProductLine.CENTRAFLEX)
    weber = Customer(number="K-100003", name="Kaufhaus Weber KG", product_line=ProductLine.IPFONIE,
                     reseller_id=partner.id)
    nordlicht = Customer(number="K-100004", name="Nordlicht Logistik GmbH", product_line=ProductLine.IPFONIE)
    session.add_all([muster, beispiel, weber, nordlicht])
    session.flush()
    refs.customers = {c.number: c for c in (muster, beispiel, weber, nordlicht)}

    session.add_all([
        TenantCustomer(tenant_id=nord.id, customer_id=muster.id),
        TenantCustomer(tenant_id=nord.id, customer_id=nordlicht.id),
        DataProcessingAgreement(tenant_id=nord.id, customer_id=nordlicht.id,
                                signed_on=date.today() - timedelta(days=90)),
    ])

    def contract(number: str, customer: Customer, term: int, channels: int, licences: int,
                 product: str = "IPfonie SIP-Trunk") -> Contract:
        c = Contract(number=number, customer_id=customer.id, min_term_months=term, voice_channels=channels,
                     kombi_option=False, product_name=product)
        session.add(c)
        session.flush()
        session.add_all(Licence(contract_id=c.id) for _ in range(licences))
        session.flush()
        refs.contracts[number] = c
        return c

    v1 = contract("V-200001", muster, 24, 10, 5)
    berlin = add_site(session, v1, "Berlin Zentrale", "+49301234567", 0, 99)
    add_site(session, v1, "Hamburg", "+49407654321", 0, 49)
    v2 = contract("V-200002", beispiel, 36, 20, 3, product="Centraflex Cloud-PBX")
    muenchen = add_site(session, v2, "München", "+49891112223", 0, 29)
    v3 = contract("V-200003", weber, 12, 4, 3)
    koeln = add_site(session, v3, "Köln", "+492215556667", 0, 19)
    v4 = contract("V-200004", nordlicht, 24, 8, 3)
    bremen = add_site(session, v4, "Bremen", "+494213334445", 0, 19)

    users = refs.users
    users["admin"] = add_user(session, "admin@muster.example", ADMIN_PASSWORD, "Petra Admin")
    users["admin2"] = add_user(session, "admin2@muster.example", ADMIN_PASSWORD, "Paul Zweitadmin")
    users["cf"] = add_user(session, "cf-admin@beispiel.example", ADMIN_PASSWORD, "Clara Centraflex")
    users["reseller"] = add_user(session, "reseller@partner.example", ADMIN_PASSWORD, "Rolf Reseller",
                                 reseller_id=partner.id)
    users["tenant"] = add_user(session, "mandant@nord.example", ADMIN_PASSWORD, "Mia Mandant",
                               tenant_id=nord.id)
    users["backoffice"] = add_user(session, "betrieb@carrier.example", ADMIN_PASSWORD, "Bernd Betrieb")
    session.flush()
    session.add_all([
        RoleGrant(user_id=users["admin"].id, role=Role.IPFONIE_ADMIN, customer_id=muster.id),
        RoleGrant(user_id=users["admin"].id, role=Role.ORDER_PERMISSION, customer_id=muster.id),
        RoleGrant(user_id=users["admin2"].id, role=Role.IPFONIE_ADMIN, customer_id=muster.id),
        RoleGrant(user_id=users["cf"].id, role=Role.CENTRAFLEX_ADMIN, customer_id=beispiel.id),
        RoleGrant(user_id=users["reseller"].id, role=Role.IPFONIE_ADMIN, customer_id=weber.id),
        RoleGrant(user_id=users["backoffice"].id, role=Role.BACK_OFFICE, customer_id=None),
    ])
    session.flush()

    refs.profiles["anna"] = add_profile(
        session, v1, berlin, "Anna", "Schmidt", "anna.schmidt@muster.example", USER_PASSWORD,
        {Service.FAX: "+4930123456710", Service.VOICEMAIL: "+4930123456711",
         Service.CONFERENCE: "+4930123456712"},
    )
    refs.profiles["max"] = add_profile(
        session, v1, berlin, "Max", "Müller", "max.mueller@muster.example", USER_PASSWORD,
        {Service.VOICEMAIL: "+4930123456720"},
    )
    refs.profiles["bea"] = add_profile(session, v2, muenchen, "Bea", "Berger", "bea.berger@beispiel.example",
                                       USER_PASSWORD)
    # Invited by the reseller, has not set a password yet: the reseller's overview flags this.
    refs.profiles["walter"] = add_profile(session, v3, koeln, "Walter", "Weber",
                                          "walter.weber@weber.example", None)
    refs.profiles["nina"] = add_profile(session, v4, bremen, "Nina", "Nordmann", "nina.nordmann@nordlicht.example",
                                        USER_PASSWORD, {Service.FAX: "+49421333444510"})

    for name in EXTENSIONS:
        importlib.import_module(f"{__package__}.{name}").load(session, refs)
    session.flush()
    return True
