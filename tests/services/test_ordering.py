"""Ordering services: who may order (resellers, tenants), totals with VAT, the confirmation mail
over a real SMTP server in the orderer's language, and a UMS package that never outlives its trunk."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.mailserver import start_server
from webapp.models import Contract, Customer, Product, Role, RoleGrant, User
from webapp.services import authz, catalogue, ordering
from webapp.services import cart as cart_service


def _user(session, email) -> User:
    return session.scalar(select(User).where(User.email == email))


def _customer(session, number) -> Customer:
    return session.scalar(select(Customer).where(Customer.number == number))


def _product(session, code) -> Product:
    return session.scalar(select(Product).where(Product.code == code))


def test_reseller_orders_only_for_its_end_customer_with_role_and_order_permission(db_session):
    weber, muster = _customer(db_session, "K-100003"), _customer(db_session, "K-100001")
    reseller = _user(db_session, "reseller@partner.example")
    assert not authz.can_order(db_session, reseller, weber)  # the admin role alone is not enough
    db_session.add_all([RoleGrant(user_id=reseller.id, role=Role.ORDER_PERMISSION, customer_id=weber.id),
                        RoleGrant(user_id=reseller.id, role=Role.ORDER_PERMISSION, customer_id=muster.id)])
    db_session.flush()
    db_session.refresh(reseller)
    assert authz.can_order(db_session, reseller, weber)
    refused = authz.can_order(db_session, reseller, muster)  # not its end customer, no role there
    assert not refused and "Reseller" in str(refused.reason)


def test_tenant_and_back_office_never_order(db_session):
    tenant = _user(db_session, "mandant@nord.example")
    assert cart_service.ordering_customers(db_session, tenant) == []
    assert cart_service.ordering_customers(db_session, _user(db_session, "betrieb@carrier.example")) == []
    with pytest.raises(authz.AccessDenied):
        cart_service.customer_for(db_session, tenant, None)


def test_totals_add_19_percent_vat_and_format_in_german(app):
    totals = catalogue.Totals(monthly_net=1470, one_off_net=4900)
    assert (totals.monthly_vat, totals.monthly_gross, totals.one_off_gross) == (279, 1749, 5831)
    with app.test_request_context():
        assert catalogue.money(totals.monthly_gross) == "17,49\xa0€"


def test_removing_a_trunk_takes_its_packages_and_restoring_brings_them_back(db_session):
    admin = _user(db_session, "admin@muster.example")
    muster = _customer(db_session, "K-100001")
    trunk = cart_service.add_trunk(db_session, admin, muster, _product(db_session, "ipfonie-sip-bundle-m"),
                                   term="24", kombi=False)
    cart_service.add_option(db_session, admin, muster, _product(db_session, "ums-paket"), trunk_id=trunk.id,
                            quantity="3")
    cart_service.remove(db_session, admin, muster, trunk.id)
    view = cart_service.view(db_session, admin, muster)
    assert view.groups == [] and [line.item.id for line in view.removed] == [trunk.id]
    cart_service.restore(db_session, admin, muster, trunk.id)
    [group] = cart_service.view(db_session, admin, muster).groups
    assert group.ums_packages == 3 and group.voice_channels == 10
    # a further change makes the removal final: the package is gone with its trunk for good
    cart_service.remove(db_session, admin, muster, trunk.id)
    cart_service.add_existing_trunk(db_session, admin, db_session.scalar(select(Contract).where(
        Contract.number == "V-200001")))
    view = cart_service.view(db_session, admin, muster)
    assert [g.trunk.item.contract_id is not None for g in view.groups] == [True] and view.removed == []


class TestConfirmationMail:
    @pytest.fixture
    def smtp_server(self):
        controller, _ = start_server()
        yield controller
        controller.stop()

    @pytest.fixture
    def app_config(self, smtp_server):
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_server.port}

    def test_order_confirmation_reaches_the_smtp_server_with_the_items(self, db_session, smtp_server):
        admin = _user(db_session, "admin@muster.example")
        admin.locale = "en"
        muster = _customer(db_session, "K-100001")
        contract = db_session.scalar(select(Contract).where(Contract.number == "V-200001"))
        trunk = cart_service.add_existing_trunk(db_session, admin, contract)
        cart_service.add_option(db_session, admin, muster, _product(db_session, "ums-paket"), trunk_id=trunk.id,
                                quantity="2")
        order = ordering.place(db_session, admin, muster, cart_service.get_cart(db_session, admin, muster).token)
        assert smtp_server.handler.envelopes == []  # nothing leaves before the commit
        db_session.commit()
        [message] = smtp_server.handler.messages()
        assert message["To"] == "admin@muster.example"
        assert message["Subject"] == f"Order confirmation {order.number}"
        body = message.get_body(("plain",)).get_content()
        assert "2 × Unified Messaging Paket" in body and "V-200001" in body
        assert "€11.66" in body  # 2 × 4.90 € + 19 % VAT, in English


def test_work_queued_for_after_the_commit_waits_for_the_real_commit_not_a_savepoint(db_session):
    """Provisioning takes a savepoint per new contract: events queued before it must not run at its
    release (they would run before the data they need is committed)."""
    from webapp.db import after_commit

    ran: list[str] = []
    after_commit(db_session, lambda: ran.append("job"))
    with db_session.begin_nested():
        pass
    assert ran == []
    db_session.commit()
    assert ran == ["job"]
