"""Every row of the role table (domain.md §1), allowed and refused, with the refusal's reason.

Reasons are read in German, the default UI language (outside a request too)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests import factories
from webapp.models import (
    Customer,
    DataProcessingAgreement,
    ProductLine,
    Role,
    TenantCustomer,
    UmsProfile,
    User,
)
from webapp.services import authz
from webapp.services.errors import AccessDenied

TODAY = date.today()


def user(session, email: str) -> User:
    return session.scalar(select(User).where(User.email == email))


def customer(session, number: str) -> Customer:
    return session.scalar(select(Customer).where(Customer.number == number))


def profile(session, email: str) -> UmsProfile:
    return session.scalar(select(UmsProfile).where(UmsProfile.email == email))


def reason(decision: authz.Decision) -> str:
    assert not decision, "expected a refusal"
    assert str(decision.reason), "a refusal must say why"
    return str(decision.reason)


def assert_decision(decision: authz.Decision, allowed: bool, words=()) -> None:
    """Allowed as expected; a refusal's reason contains each of ``words``."""
    assert bool(decision) is allowed
    if not allowed:
        text = reason(decision)
        for word in words:
            assert word in text


# --- managing UMS profiles: (login, customer, allowed, words the refusal must contain) ---------

MANAGE_UMS = [
    # „Kunde – IPfonie Administrator" for an IPfonie customer
    ("admin@muster.example", "K-100001", True, ()),
    ("admin2@muster.example", "K-100001", True, ()),
    # „Kunde – Centraflex Administrator" for a Centraflex customer
    ("cf-admin@beispiel.example", "K-100002", True, ()),
    # a role for another customer does not carry over; the reason names the role needed
    ("admin@muster.example", "K-100002", False, ("K-100002", "Kunde – Centraflex Administrator")),
    ("cf-admin@beispiel.example", "K-100001", False, ("K-100001", "Kunde – IPfonie Administrator")),
    # reseller admin: only the end customer the grant names
    ("reseller@partner.example", "K-100003", True, ()),
    ("reseller@partner.example", "K-100001", False, ("K-100001", "Kunde – IPfonie Administrator")),
    # tenant staff: only where an active AVV is on record
    ("mandant@nord.example", "K-100004", True, ()),
    ("mandant@nord.example", "K-100001", False, ("Datenschutz", "AVV", "K-100001")),
    ("mandant@nord.example", "K-100002", False, ("K-100002", "Kunde – Centraflex Administrator")),
    # UMS users and the back office manage no UMS profiles
    ("anna.schmidt@muster.example", "K-100001", False, ("K-100001", "Kunde – IPfonie Administrator")),
    ("betrieb@carrier.example", "K-100001", False, ("Back Office",)),
]


@pytest.mark.parametrize(("email", "number", "allowed", "words"), MANAGE_UMS)
def test_can_manage_ums(db_session, email, number, allowed, words):
    decision = authz.can_manage_ums(db_session, user(db_session, email), customer(db_session, number))
    assert_decision(decision, allowed, words)


@pytest.mark.parametrize(
    ("grant_line", "customer_line", "needed", "held"),
    [
        (Role.IPFONIE_ADMIN, ProductLine.CENTRAFLEX, "Kunde – Centraflex Administrator",
         "Kunde – IPfonie Administrator"),
        (Role.CENTRAFLEX_ADMIN, ProductLine.IPFONIE, "Kunde – IPfonie Administrator",
         "Kunde – Centraflex Administrator"),
    ],
)
def test_admin_grant_of_the_wrong_product_line_is_refused_naming_both_roles(
    db_session, grant_line, customer_line, needed, held
):
    cust = factories.customer(db_session, customer_line)
    someone = factories.user(db_session, roles=[(grant_line, cust)])
    text = reason(authz.can_manage_ums(db_session, someone, cust))
    assert needed in text and held in text and cust.number in text
    assert not authz.can_fill_cart(db_session, someone, cust)
    assert authz.customers_with_ums_access(db_session, someone) == []


def test_reseller_grant_for_a_customer_who_is_not_their_end_customer_is_refused(db_session):
    reseller = user(db_session, "reseller@partner.example")
    stranger = factories.customer(db_session, ProductLine.IPFONIE)  # no reseller
    reseller_staff = factories.user(db_session, roles=[(Role.IPFONIE_ADMIN, stranger)],
                                    reseller_id=reseller.reseller_id)
    text = reason(authz.can_manage_ums(db_session, reseller_staff, stranger))
    assert "Reseller" in text and stranger.number in text
    assert authz.customers_with_ums_access(db_session, reseller_staff) == []


def test_reseller_sees_only_their_end_customer(db_session):
    reseller = user(db_session, "reseller@partner.example")
    assert [c.number for c in authz.customers_with_ums_access(db_session, reseller)] == ["K-100003"]
    assert [c.number for c in authz.customers_visible(db_session, reseller)] == ["K-100003"]


# --- tenants and the data processing agreement (AVV) --------------------------------------------


@pytest.fixture
def looked_after(db_session):
    """A tenant, a member of its staff and a customer the tenant looks after (no AVV yet)."""
    tenant = factories.tenant(db_session, "Mandant Süd")
    staff = factories.user(db_session, tenant_id=tenant.id)
    cust = factories.customer(db_session, ProductLine.IPFONIE)
    db_session.add(TenantCustomer(tenant_id=tenant.id, customer_id=cust.id))
    db_session.flush()
    return tenant, staff, cust


def add_avv(session, tenant, cust, signed_on: date, ended_on: date | None = None):
    session.add(DataProcessingAgreement(tenant_id=tenant.id, customer_id=cust.id, signed_on=signed_on,
                                        ended_on=ended_on))
    session.flush()


@pytest.mark.parametrize(
    ("signed_on", "ended_on", "allowed"),
    [
        (None, None, False),  # no AVV on record
        (TODAY - timedelta(days=30), None, True),  # active
        (TODAY, None, True),  # signed today
        (TODAY - timedelta(days=30), TODAY + timedelta(days=1), True),  # ends tomorrow
        (TODAY - timedelta(days=30), TODAY, False),  # ended today
        (TODAY - timedelta(days=60), TODAY - timedelta(days=1), False),  # ended
        (TODAY + timedelta(days=7), None, False),  # not yet signed (dated in the future)
    ],
)
def test_tenant_staff_manage_ums_only_with_an_active_avv(db_session, looked_after, signed_on, ended_on,
                                                         allowed):
    tenant, staff, cust = looked_after
    if signed_on is not None:
        add_avv(db_session, tenant, cust, signed_on, ended_on)
    decision = authz.can_manage_ums(db_session, staff, cust)
    assert bool(decision) is allowed
    if not allowed:
        text = reason(decision)
        assert "Datenschutz" in text and "Auftragsverarbeitungsvertrag (AVV)" in text
    # reading the customer never needs the AVV
    assert authz.can_view_customer(db_session, staff, cust)
    assert (cust in authz.customers_with_ums_access(db_session, staff)) is allowed


def test_an_avv_with_another_customer_does_not_count(db_session, looked_after):
    tenant, staff, cust = looked_after
    add_avv(db_session, tenant, customer(db_session, "K-100002"), TODAY - timedelta(days=5))
    assert "AVV" in reason(authz.can_manage_ums(db_session, staff, cust))


def test_another_tenants_avv_does_not_count(db_session, looked_after):
    _tenant, staff, cust = looked_after
    other = factories.tenant(db_session, "Anderer Mandant")
    add_avv(db_session, other, cust, TODAY - timedelta(days=5))
    assert not authz.can_manage_ums(db_session, staff, cust)


def test_sub_tenant_acts_through_its_parents_customers_and_avv(db_session):
    nord = user(db_session, "mandant@nord.example").tenant
    sub = factories.tenant(db_session, "Submandant Nord-Ost", parent=nord)
    staff = factories.user(db_session, tenant_id=sub.id)
    assert authz.can_manage_ums(db_session, staff, customer(db_session, "K-100004"))
    assert "AVV" in reason(authz.can_manage_ums(db_session, staff, customer(db_session, "K-100001")))
    assert [c.number for c in authz.customers_with_ums_access(db_session, staff)] == ["K-100004"]
    assert [c.number for c in authz.customers_visible(db_session, staff)] == ["K-100001", "K-100004"]


def test_sub_tenant_with_its_own_avv(db_session, looked_after):
    parent, _staff, cust = looked_after
    sub = factories.tenant(db_session, "Submandant", parent=parent)
    sub_staff = factories.user(db_session, tenant_id=sub.id)
    assert not authz.can_manage_ums(db_session, sub_staff, cust)
    add_avv(db_session, sub, cust, TODAY - timedelta(days=1))
    assert authz.can_manage_ums(db_session, sub_staff, cust)


def test_tenant_staff_do_not_reach_customers_they_do_not_look_after(db_session):
    staff = user(db_session, "mandant@nord.example")
    weber = customer(db_session, "K-100003")
    assert not authz.can_view_customer(db_session, staff, weber)
    assert not authz.can_manage_ums(db_session, staff, weber)


# --- UMS users and their own profile ------------------------------------------------------------

USE_PROFILE = [
    ("anna.schmidt@muster.example", "anna.schmidt@muster.example", True, ()),
    ("anna.schmidt@muster.example", "max.mueller@muster.example", False, ("UMS-Benutzer", "eigenes UMS-Profil")),
    ("anna.schmidt@muster.example", "bea.berger@beispiel.example", False, ("UMS-Benutzer", "eigenes UMS-Profil")),
    ("admin@muster.example", "anna.schmidt@muster.example", True, ()),
    ("admin@muster.example", "bea.berger@beispiel.example", False, ("Kunde – Centraflex Administrator",)),
    ("cf-admin@beispiel.example", "bea.berger@beispiel.example", True, ()),
    ("cf-admin@beispiel.example", "anna.schmidt@muster.example", False, ("Kunde – IPfonie Administrator",)),
    ("reseller@partner.example", "walter.weber@weber.example", True, ()),
    ("reseller@partner.example", "anna.schmidt@muster.example", False, ("Kunde – IPfonie Administrator",)),
    ("mandant@nord.example", "nina.nordmann@nordlicht.example", True, ()),
    ("mandant@nord.example", "anna.schmidt@muster.example", False, ("Datenschutz", "AVV")),
    ("betrieb@carrier.example", "anna.schmidt@muster.example", False, ("Back Office",)),
]


@pytest.mark.parametrize(("email", "owner", "allowed", "words"), USE_PROFILE)
def test_can_use_profile(db_session, email, owner, allowed, words):
    decision = authz.can_use_profile(db_session, user(db_session, email), profile(db_session, owner))
    assert_decision(decision, allowed, words)


def test_own_profile_is_the_ums_users_profile_only(db_session):
    anna = user(db_session, "anna.schmidt@muster.example")
    assert authz.own_profile(db_session, anna) == profile(db_session, "anna.schmidt@muster.example")
    assert authz.own_profile(db_session, user(db_session, "admin@muster.example")) is None


def test_profile_owner_without_the_ums_user_grant_cannot_use_it(db_session):
    anna = user(db_session, "anna.schmidt@muster.example")
    for grant in list(anna.grants):
        db_session.delete(grant)
    db_session.flush()
    db_session.refresh(anna)
    assert not authz.can_use_profile(db_session, anna, profile(db_session, "anna.schmidt@muster.example"))
    assert authz.own_profile(db_session, anna) is None


# --- ordering and provisioning ------------------------------------------------------------------

ORDER = [
    ("admin@muster.example", "K-100001", True),
    ("admin2@muster.example", "K-100001", False),
    ("cf-admin@beispiel.example", "K-100002", False),
    ("admin@muster.example", "K-100002", False),
    ("reseller@partner.example", "K-100003", False),
    ("mandant@nord.example", "K-100004", False),
    ("anna.schmidt@muster.example", "K-100001", False),
]


@pytest.mark.parametrize(("email", "number", "allowed"), ORDER)
def test_can_order_needs_the_order_permission(db_session, email, number, allowed):
    decision = authz.can_order(db_session, user(db_session, email), customer(db_session, number))
    assert bool(decision) is allowed
    if not allowed:
        text = reason(decision)
        assert "Bestellberechtigung" in text and number in text


FILL_CART = [
    ("admin@muster.example", "K-100001", True),
    ("admin2@muster.example", "K-100001", True),  # may fill the cart, not place it
    ("cf-admin@beispiel.example", "K-100002", True),
    ("reseller@partner.example", "K-100003", True),
    ("cf-admin@beispiel.example", "K-100001", False),
    ("anna.schmidt@muster.example", "K-100001", False),
    ("mandant@nord.example", "K-100001", False),
]


@pytest.mark.parametrize(("email", "number", "allowed"), FILL_CART)
def test_can_fill_cart(db_session, email, number, allowed):
    decision = authz.can_fill_cart(db_session, user(db_session, email), customer(db_session, number))
    assert bool(decision) is allowed
    if not allowed:
        assert number in reason(decision)


def test_order_permission_alone_lets_a_user_order(db_session):
    cust = customer(db_session, "K-100001")
    buyer = factories.user(db_session, roles=[(Role.ORDER_PERMISSION, cust)])
    assert authz.can_order(db_session, buyer, cust)
    assert authz.can_fill_cart(db_session, buyer, cust)
    assert authz.can_view_customer(db_session, buyer, cust)
    assert not authz.can_manage_ums(db_session, buyer, cust)


@pytest.mark.parametrize(
    ("email", "allowed"),
    [("betrieb@carrier.example", True), ("admin@muster.example", False),
     ("mandant@nord.example", False), ("anna.schmidt@muster.example", False)],
)
def test_only_the_back_office_provisions(db_session, email, allowed):
    decision = authz.can_provision(user(db_session, email))
    assert bool(decision) is allowed
    if not allowed:
        assert "Back Office" in reason(decision)


# --- lists --------------------------------------------------------------------------------------

LISTS = [
    ("admin@muster.example", ["K-100001"], ["K-100001"]),
    ("admin2@muster.example", ["K-100001"], ["K-100001"]),
    ("cf-admin@beispiel.example", ["K-100002"], ["K-100002"]),
    ("reseller@partner.example", ["K-100003"], ["K-100003"]),
    ("mandant@nord.example", ["K-100004"], ["K-100001", "K-100004"]),
    ("anna.schmidt@muster.example", [], []),
    ("betrieb@carrier.example", [], ["K-100001", "K-100002", "K-100003", "K-100004"]),
]


@pytest.mark.parametrize(("email", "ums", "visible"), LISTS)
def test_customer_lists(db_session, email, ums, visible):
    someone = user(db_session, email)
    assert [c.number for c in authz.customers_with_ums_access(db_session, someone)] == ums
    assert [c.number for c in authz.customers_visible(db_session, someone)] == visible


def test_a_user_without_any_role_may_nothing(db_session):
    nobody = factories.user(db_session)
    muster = customer(db_session, "K-100001")
    assert authz.customers_with_ums_access(db_session, nobody) == []
    assert authz.customers_visible(db_session, nobody) == []
    assert not authz.can_view_customer(db_session, nobody, muster)
    assert "K-100001" in reason(authz.can_manage_ums(db_session, nobody, muster))


def test_require_raises_access_denied_with_the_reason(db_session):
    decision = authz.can_order(db_session, user(db_session, "admin2@muster.example"),
                               customer(db_session, "K-100001"))
    with pytest.raises(AccessDenied) as caught:
        decision.require()
    assert caught.value.reason == decision.reason
    assert caught.value.status == 403
    authz.ALLOW.require()  # an allowed decision raises nothing
