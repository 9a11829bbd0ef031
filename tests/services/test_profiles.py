"""Profiles: create against free licences, platform-wide unique e-mail, invitation, edit, delete,
list/search/paginate, and who may do it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests import factories
from webapp.models import (
    AuditEntry,
    Contract,
    Customer,
    EmailChangeCode,
    MailMessage,
    PhoneNumber,
    PlatformEvent,
    ProductLine,
    Role,
    Service,
    ServiceAssignment,
    Site,
    UmsProfile,
    User,
    UserToken,
    utcnow,
)
from webapp.services import accounts, numbers, profiles
from webapp.services.errors import (
    AccessDenied,
    EmailTaken,
    LicenceExhausted,
    NotFound,
    ValidationFailed,
)


def user(session, email):
    return session.scalar(select(User).where(User.email == email))


def contract(session, number="V-200001"):
    return session.scalar(select(Contract).where(Contract.number == number))


def site(session, name):
    return session.scalar(select(Site).where(Site.name == name))


def create(session, actor, email="neu.person@muster.example", contract_number="V-200001",
           site_name="Berlin Zentrale", **kw):
    c = contract(session, contract_number)
    s = site(session, site_name) if site_name else c.sites[0]
    return profiles.create_profile(session, actor, contract_id=c.id, site_id=s.id,
                                   last_name=kw.pop("last_name", "Neumann"),
                                   first_name=kw.pop("first_name", "Nora"), email=email, **kw)


@pytest.fixture
def admin(db_session):
    return user(db_session, "admin@muster.example")


def test_create_takes_a_licence_makes_a_login_and_sends_the_invitation(db_session, admin):
    before = profiles.licence_line(db_session, contract(db_session))
    profile = create(db_session, admin, email="  Nora.Neumann@Muster.EXAMPLE ")
    after = profiles.licence_line(db_session, contract(db_session))
    assert (before.used, before.total) == (2, 5)
    assert (after.used, after.total) == (3, 5)
    assert profile.email_normalized == "nora.neumann@muster.example"
    login = profile.user
    assert login.email == "nora.neumann@muster.example" and login.password_hash is None
    assert login.has_role(Role.UMS_USER)
    token = db_session.scalar(select(UserToken).where(UserToken.user_id == login.id))
    assert token.purpose == "set_password"
    assert timedelta(days=6, hours=23) < token.expires_at - utcnow() <= timedelta(days=7)
    mail = db_session.scalar(select(MailMessage).where(MailMessage.recipient == login.email))
    link = re.search(r"http://localhost/set-password/(\S+)", mail.body_text).group(1)
    assert accounts.token_user(db_session, link, "set_password").id == login.id
    assert "Nora Neumann" in mail.body_text
    assert db_session.scalar(select(AuditEntry).where(AuditEntry.profile_id == profile.id)).action == \
        "profile.created"
    event = db_session.scalar(select(PlatformEvent).where(PlatformEvent.kind == "profile.created")
                              .order_by(PlatformEvent.id.desc()))
    assert event.payload["profile_id"] == profile.id


def test_invitation_is_written_in_the_profile_language(db_session, admin):
    profile = create(db_session, admin, email="english@muster.example", language="en")
    mail = db_session.scalar(select(MailMessage).where(MailMessage.recipient == profile.email_normalized))
    assert "Please set your password" in mail.body_text


@pytest.mark.parametrize("taken", ["ANNA.SCHMIDT@muster.example", "anna.schmidt@MUSTER.EXAMPLE",
                                   "admin2@muster.example", "Bea.Berger@beispiel.example"])
def test_an_address_in_use_anywhere_is_refused_whatever_its_case(db_session, admin, taken):
    with pytest.raises(EmailTaken) as exc:
        create(db_session, admin, email=taken)
    assert exc.value.field == "email"
    assert "@" in str(exc.value.message)  # names the address


def test_an_invalid_address_is_refused_next_to_the_field(db_session, admin):
    with pytest.raises(ValidationFailed) as exc:
        create(db_session, admin, email="not-an-address")
    assert exc.value.field == "email"


@pytest.mark.parametrize(("field", "kw"), [("last_name", {"last_name": "  "}),
                                           ("first_name", {"first_name": ""})])
def test_names_are_required(db_session, admin, field, kw):
    with pytest.raises(ValidationFailed) as exc:
        create(db_session, admin, **kw)
    assert exc.value.field == field


def test_site_must_belong_to_the_contract(db_session, admin):
    with pytest.raises(ValidationFailed) as exc:
        create(db_session, admin, site_name="München")
    assert exc.value.field == "site_id"


def test_exhausted_licences_refuse_with_what_to_do(db_session, admin):
    for n in range(3):
        create(db_session, admin, email=f"fill{n}@muster.example")
    assert str(profiles.licence_line(db_session, contract(db_session))) == "5 / 5"
    with pytest.raises(LicenceExhausted) as exc:
        create(db_session, admin, email="one.too.many@muster.example")
    assert "Nachbestellung" in str(exc.value.message)
    assert db_session.scalar(select(func.count()).select_from(User)
                             .where(User.email == "one.too.many@muster.example")) == 0


def test_centraflex_admin_cannot_create_for_an_ipfonie_customer(db_session):
    with pytest.raises(NotFound):  # not their customer: outside their scope
        create(db_session, user(db_session, "cf-admin@beispiel.example"))


def test_tenant_is_refused_without_avv_and_allowed_with_it(db_session):
    tenant = user(db_session, "mandant@nord.example")
    with pytest.raises(AccessDenied) as exc:
        create(db_session, tenant)
    assert "Auftragsverarbeitungsvertrag" in str(exc.value.reason)
    profile = create(db_session, tenant, email="neu@nordlicht.example", contract_number="V-200004",
                     site_name="Bremen")
    assert profile.customer.number == "K-100004"


def test_reseller_only_for_their_end_customer(db_session):
    reseller = user(db_session, "reseller@partner.example")
    with pytest.raises(NotFound):
        create(db_session, reseller)
    profile = create(db_session, reseller, email="neu@weber.example", contract_number="V-200003",
                     site_name="Köln")
    assert db_session.scalar(select(MailMessage).where(MailMessage.recipient == "neu@weber.example"))
    view = profiles.list_profiles(db_session, reseller, profiles.ProfileFilter())
    assert [c.number for c in view.customers] == ["K-100003"]
    assert {p.customer_id for p in view.rows} == {c.id for c in view.customers}
    # Walter (demo) and the new person have not set a password: the reseller is told.
    assert view.awaiting_access == {profile.customer_id: 2}


def test_list_search_filter_and_pagination(db_session, admin):
    view = profiles.list_profiles(db_session, admin, profiles.ProfileFilter())
    assert [p.last_name for p in view.rows] == ["Müller", "Schmidt"]
    assert str(view.licences[contract(db_session).id]) == "2 / 5"
    assert [p.first_name for p in profiles.list_profiles(
        db_session, admin, profiles.ProfileFilter(q="ANNA")).rows] == ["Anna"]
    assert [p.first_name for p in profiles.list_profiles(
        db_session, admin, profiles.ProfileFilter(q="max.mue")).rows] == ["Max"]
    assert [p.first_name for p in profiles.list_profiles(
        db_session, admin, profiles.ProfileFilter(q="anna schm")).rows] == ["Anna"]
    for as_listed in ("Schmidt, Anna", "schmidt anna", "Schmidt,Anna"):  # the list shows „Schmidt, Anna“
        assert [p.first_name for p in profiles.list_profiles(
            db_session, admin, profiles.ProfileFilter(q=as_listed)).rows] == ["Anna"], as_listed
    assert profiles.list_profiles(db_session, admin, profiles.ProfileFilter(q="100%_")).total == 0
    hamburg = site(db_session, "Hamburg")
    assert profiles.list_profiles(db_session, admin, profiles.ProfileFilter(site_id=hamburg.id)).total == 0
    paged = profiles.list_profiles(db_session, admin, profiles.ProfileFilter(per_page=1, page=2))
    assert (paged.total, paged.pages, [p.first_name for p in paged.rows]) == (2, 2, ["Anna"])
    beyond = profiles.list_profiles(db_session, admin, profiles.ProfileFilter(per_page=1, page=99))
    assert beyond.filter.page == 2


def test_list_for_tenant_shows_the_avv_refusal_and_the_allowed_customer(db_session):
    view = profiles.list_profiles(db_session, user(db_session, "mandant@nord.example"), profiles.ProfileFilter())
    assert [c.number for c, _ in view.refused] == ["K-100001"]
    assert "AVV" in str(view.refused[0][1])
    assert [p.email_normalized for p in view.rows] == ["nina.nordmann@nordlicht.example"]


def test_get_for_admin_checks_access(db_session, admin):
    anna = db_session.scalar(select(UmsProfile).where(UmsProfile.email_normalized.like("anna%")))
    assert profiles.get_for_admin(db_session, admin, anna.id) is anna
    with pytest.raises(AccessDenied):
        profiles.get_for_admin(db_session, user(db_session, "anna.schmidt@muster.example"), anna.id)
    with pytest.raises(NotFound):
        profiles.get_for_admin(db_session, admin, 999999)


def test_edit_names_and_site_only_while_no_number_is_assigned(db_session, admin):
    profile = create(db_session, admin)
    hamburg = site(db_session, "Hamburg")
    profiles.update_profile(db_session, admin, profile, last_name="Neu-Mann", first_name="Nora",
                            site_id=hamburg.id)
    assert (profile.last_name, profile.site.name, profile.user.display_name) == ("Neu-Mann", "Hamburg",
                                                                                "Nora Neu-Mann")
    number = db_session.scalar(select(PhoneNumber).where(PhoneNumber.site_id == hamburg.id))
    numbers.assign_number(db_session, admin, profile, Service.FAX, number.id)
    with pytest.raises(ValidationFailed) as exc:
        profiles.update_profile(db_session, admin, profile, last_name="Neu-Mann", first_name="Nora",
                                site_id=site(db_session, "Berlin Zentrale").id)
    assert exc.value.field == "site_id"


def test_resend_invitation_replaces_the_link_and_stops_once_a_password_is_set(db_session, admin):
    profile = create(db_session, admin)
    profiles.resend_invitation(db_session, admin, profile)
    tokens = db_session.scalars(select(UserToken).where(UserToken.user_id == profile.user_id)).all()
    assert len(tokens) == 2 and sum(t.used_at is None for t in tokens) == 1
    accounts.set_password(db_session, profile.user, "a-good-password")
    with pytest.raises(ValidationFailed):
        profiles.resend_invitation(db_session, admin, profile)


def test_delete_frees_licence_and_numbers_removes_login_and_runs_hooks(db_session, admin, monkeypatch):
    profile = create(db_session, admin)
    number = db_session.scalar(select(PhoneNumber).where(PhoneNumber.e164 == "+4930123456799"))
    numbers.assign_number(db_session, admin, profile, Service.VOICEMAIL, number.id)
    db_session.add(EmailChangeCode(profile_id=profile.id, code_hash="x", expires_at=utcnow()))
    db_session.flush()
    seen = []
    monkeypatch.setattr(profiles, "BEFORE_PROFILE_DELETE", [lambda s, p: seen.append(p.id)])
    profile_id, user_id = profile.id, profile.user_id
    profiles.delete_profile(db_session, admin, profile)
    assert seen == [profile_id]
    assert db_session.get(UmsProfile, profile_id) is None
    assert db_session.get(User, user_id) is None
    assert db_session.scalar(select(func.count()).select_from(ServiceAssignment)
                             .where(ServiceAssignment.number_id == number.id)) == 0
    assert str(profiles.licence_line(db_session, contract(db_session))) == "2 / 5"
    event = db_session.scalar(select(PlatformEvent).where(PlatformEvent.kind == "profile.deleted")
                              .order_by(PlatformEvent.id.desc()))
    assert event.payload["numbers_released"] == ["+4930123456799"]
    # the address is free again
    create(db_session, admin)


def test_delete_keeps_a_login_that_has_other_roles(db_session, admin):
    customer = db_session.scalar(select(Customer).where(Customer.number == "K-100001"))
    profile = create(db_session, admin, email="both@muster.example")
    from webapp.models import RoleGrant

    db_session.add(RoleGrant(user_id=profile.user_id, role=Role.ORDER_PERMISSION, customer_id=customer.id))
    db_session.flush()
    db_session.refresh(profile.user)
    user_id = profile.user_id
    profiles.delete_profile(db_session, admin, profile)
    kept = db_session.get(User, user_id)
    assert kept is not None and not kept.has_role(Role.UMS_USER)


def test_centraflex_grant_on_an_ipfonie_customer_is_refused_with_the_reason(db_session):
    ipfonie = factories.customer(db_session, ProductLine.IPFONIE)
    c, s = factories.contract(db_session, ipfonie)
    cf = factories.user(db_session, roles=[(Role.CENTRAFLEX_ADMIN, ipfonie)])
    with pytest.raises(AccessDenied) as exc:
        profiles.create_profile(db_session, cf, contract_id=c.id, site_id=s.id, last_name="X",
                                first_name="Y", email="xy@test.example")
    assert "IPfonie" in str(exc.value.reason)
