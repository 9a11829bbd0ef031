"""Permission answers are remembered per session state (webapp/services/memo.py): asked again,
they cost no query; after any change in the same session they are asked anew, so a write in a
request is never answered from before it."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select, update

from tests import factories
from tests.querycount import recorded
from webapp.models import (
    DataProcessingAgreement,
    ProductLine,
    Role,
    RoleGrant,
    TenantCustomer,
    UmsProfile,
)
from webapp.services import authz

TODAY = date.today()


def test_asked_again_costs_no_query(db_session, engine):
    tenant = factories.tenant(db_session, "Mandant Memo")
    staff = factories.user(db_session, tenant_id=tenant.id)
    cust = factories.customer(db_session)
    db_session.add(TenantCustomer(tenant_id=tenant.id, customer_id=cust.id))
    db_session.flush()
    with recorded(engine) as first:
        visible = authz.customers_visible(db_session, staff)
        managed = authz.customers_with_ums_access(db_session, staff)
    with recorded(engine) as again:
        assert authz.customers_visible(db_session, staff) == visible == [cust]
        assert authz.customers_with_ums_access(db_session, staff) == managed == []
        assert not authz.can_manage_ums(db_session, staff, cust)
    assert len(first) == 1  # the looked-after customers with their AVV state, in one query
    assert again == []


def test_a_grant_added_in_memory_counts_at_once(db_session):
    admin = factories.user(db_session)
    cust = factories.customer(db_session, ProductLine.IPFONIE)
    assert authz.customers_with_ums_access(db_session, admin) == []
    admin.grants.append(RoleGrant(role=Role.IPFONIE_ADMIN, customer_id=cust.id))
    assert authz.customers_with_ums_access(db_session, admin) == [cust]
    assert authz.customers_visible(db_session, admin) == [cust]


def test_a_customer_looked_after_counts_before_any_flush(db_session):
    tenant = factories.tenant(db_session, "Mandant Neu")
    staff = factories.user(db_session, tenant_id=tenant.id)
    cust = factories.customer(db_session)
    assert authz.customers_visible(db_session, staff) == []
    db_session.add(TenantCustomer(tenant_id=tenant.id, customer_id=cust.id))  # pending, not flushed
    assert authz.customers_visible(db_session, staff) == [cust]


def test_an_avv_ended_by_a_bulk_update_counts_at_once(db_session):
    tenant = factories.tenant(db_session, "Mandant AVV")
    staff = factories.user(db_session, tenant_id=tenant.id)
    cust = factories.customer(db_session)
    db_session.add_all([TenantCustomer(tenant_id=tenant.id, customer_id=cust.id),
                        DataProcessingAgreement(tenant_id=tenant.id, customer_id=cust.id,
                                                signed_on=TODAY - timedelta(days=3))])
    db_session.flush()
    assert authz.can_manage_ums(db_session, staff, cust)
    db_session.execute(update(DataProcessingAgreement).where(DataProcessingAgreement.customer_id == cust.id)
                       .values(ended_on=TODAY))
    assert not authz.can_manage_ums(db_session, staff, cust)
    assert authz.customers_with_ums_access(db_session, staff) == []


def test_the_own_profile_is_gone_once_deleted(db_session):
    profile = db_session.scalar(select(UmsProfile).where(UmsProfile.email_normalized == "anna.schmidt@muster.example"))
    anna = profile.user
    assert authz.own_profile(db_session, anna) is profile
    db_session.delete(profile)
    db_session.flush()
    assert authz.own_profile(db_session, anna) is None


def test_a_commit_or_rollback_forgets_everything(db_session):
    tenant = factories.tenant(db_session, "Mandant Rollback")
    staff = factories.user(db_session, tenant_id=tenant.id)
    authz.customers_visible(db_session, staff)
    assert db_session.info.get("memo")
    db_session.rollback()
    assert not db_session.info.get("memo")
