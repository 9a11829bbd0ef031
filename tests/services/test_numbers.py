"""Number assignment: free numbers of the profile's site only, one service per number platform-wide,
release keeps the service, audit + provisioning event in the same transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.models import (
    AuditEntry,
    PhoneNumber,
    PlatformEvent,
    Service,
    ServiceAssignment,
    UmsProfile,
    User,
)
from webapp.services import numbers
from webapp.services.errors import NotFound, NumberTaken, ValidationFailed


@pytest.fixture
def admin(db_session):
    return db_session.scalar(select(User).where(User.email == "admin@muster.example"))


def profile(session, prefix):
    return session.scalar(select(UmsProfile).where(UmsProfile.email_normalized.like(prefix + "%")))


def number(session, e164):
    return session.scalar(select(PhoneNumber).where(PhoneNumber.e164 == e164))


def test_free_numbers_exclude_every_number_in_use_and_other_sites(db_session):
    max_ = profile(db_session, "max")
    free = numbers.free_numbers(db_session, max_, limit=200)
    e164s = {n.e164 for n in free}
    assert len(free) == 100 - 4  # Anna's three and Max's one
    assert "+4930123456710" not in e164s and "+4930123456720" not in e164s
    assert all(n.site_id == max_.site_id for n in free)
    assert [n.extension for n in free[:3]] == ["0", "1", "2"]


def test_free_numbers_search_by_extension_or_national_number(db_session):
    max_ = profile(db_session, "max")
    assert [n.extension for n in numbers.free_numbers(db_session, max_, "55")] == ["55"]
    assert [n.extension for n in numbers.free_numbers(db_session, max_, "030 1234567-55")] == ["55"]
    assert numbers.free_numbers(db_session, max_, "040") == []


def test_assign_swap_and_release(db_session, admin):
    max_ = profile(db_session, "max")
    first = number(db_session, "+4930123456730")
    assignment = numbers.assign_number(db_session, admin, max_, Service.FAX, first.id)
    assert assignment.number.e164 == first.e164
    second = number(db_session, "+4930123456731")
    numbers.assign_number(db_session, admin, max_, Service.FAX, second.id)
    assert {r.service: (r.number.e164 if r.number else None) for r in numbers.service_rows(db_session, max_)} == {
        Service.FAX: second.e164, Service.VOICEMAIL: "+4930123456720", Service.CONFERENCE: None}
    assert first in numbers.free_numbers(db_session, max_, limit=200)
    numbers.release_number(db_session, admin, max_, Service.FAX)
    kept = db_session.scalar(select(ServiceAssignment).where(ServiceAssignment.profile_id == max_.id,
                                                             ServiceAssignment.service == Service.FAX))
    assert kept is not None and kept.number_id is None
    actions = db_session.scalars(select(AuditEntry.action).where(AuditEntry.profile_id == max_.id)
                                 .order_by(AuditEntry.id)).all()
    assert actions == ["number.assigned", "number.assigned", "number.released"]
    kinds = db_session.scalars(select(PlatformEvent.kind).order_by(PlatformEvent.id.desc()).limit(4)).all()
    assert kinds == ["number.released", "number.assigned", "number.released", "number.assigned"]


def test_a_number_in_use_is_refused_when_posted_anyway(db_session, admin):
    with pytest.raises(NumberTaken) as exc:
        numbers.assign_number(db_session, admin, profile(db_session, "max"), Service.FAX,
                              number(db_session, "+4930123456710").id)
    assert exc.value.field == "number_id"


def test_a_number_of_another_site_is_refused(db_session, admin):
    with pytest.raises(ValidationFailed):
        numbers.assign_number(db_session, admin, profile(db_session, "max"), Service.FAX,
                              number(db_session, "+494076543210").id)


def test_the_database_refuses_a_second_service_on_one_number(db_session):
    max_ = profile(db_session, "max")
    used = number(db_session, "+4930123456710")
    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.add(ServiceAssignment(profile_id=max_.id, service=Service.FAX, number_id=used.id))
        db_session.flush()


def test_only_admins_of_the_customer_assign(db_session):
    cf = db_session.scalar(select(User).where(User.email == "cf-admin@beispiel.example"))
    with pytest.raises(NotFound):  # not their customer: outside their scope
        numbers.assign_number(db_session, cf, profile(db_session, "max"), Service.FAX,
                              number(db_session, "+4930123456730").id)


def test_unknown_service_is_not_found():
    with pytest.raises(NotFound):
        numbers.parse_service("telex")
