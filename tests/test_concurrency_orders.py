"""The ordering rules under parallel requests on PostgreSQL: placing one cart many times at once
makes one order (and its licences once); two back-office users provisioning one order make one
contract with exactly the ordered licences; a UMS package's term is its trunk's whatever races."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.conftest import login
from tests.parallel import run_at_once

pytestmark = pytest.mark.postgres
PARALLEL = 10


def _orderer(app, tag: str, back_office: bool = False) -> str:
    """A new login of Muster GmbH with admin role and order permission (or a back-office login)."""
    from webapp.extensions import db
    from webapp.models import Customer, Role

    with app.app_context():
        session = db.session
        muster = session.scalar(select(Customer).where(Customer.number == "K-100001"))
        roles = [(Role.BACK_OFFICE, None)] if back_office else [(Role.IPFONIE_ADMIN, muster),
                                                                  (Role.ORDER_PERMISSION, muster)]
        user = factories.user(session, f"{tag}@conc-orders.example", password="secret-password-1", roles=roles)
        session.commit()
        return user.email


def _clients(app, email: str, n: int = PARALLEL):
    return [login(app.test_client(), email, "secret-password-1") for _ in range(n)]


def _token(client) -> str:
    return re.search(r'name="token" value="([0-9a-f]*)"', client.get("/cart").text).group(1)


def _count(app, model, *where) -> int:
    from webapp.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _contract_id(app, number: str) -> int:
    from webapp.extensions import db
    from webapp.models import Contract

    with app.app_context():
        return db.session.scalar(select(Contract.id).where(Contract.number == number))


def _trunk_item(app, email: str) -> int:
    from webapp.extensions import db
    from webapp.models import Cart, CartItem, User

    with app.app_context():
        return db.session.scalar(select(CartItem.id).join(Cart).join(User, User.id == Cart.user_id)
                                 .where(User.email == email, CartItem.parent_id.is_(None)))


def test_placing_one_cart_many_times_at_once_makes_one_order_and_its_licences_once(pg_app):
    from webapp.models import Licence, Order

    email = _orderer(pg_app, "twice")
    clients = _clients(pg_app, email)
    v1 = _contract_id(pg_app, "V-200001")
    clients[0].post(f"/contracts/{v1}/reorder")
    clients[0].post("/shop/products/ums-paket", data={"trunk_id": _trunk_item(pg_app, email), "quantity": "3"})
    token = _token(clients[0])
    before = _count(pg_app, Licence, Licence.contract_id == v1)

    responses = run_at_once(PARALLEL, lambda n: clients[n].post("/cart/place", data={"token": token}))
    assert {r.status_code for r in responses} == {303}
    assert len({r.headers["Location"] for r in responses}) == 1  # every click lands on the one order
    assert _count(pg_app, Order, Order.submission_key == token) == 1
    assert _count(pg_app, Licence, Licence.contract_id == v1) == before + 3


def test_two_back_office_users_provisioning_one_order_make_one_contract(pg_app):
    from webapp.extensions import db
    from webapp.models import Contract, Licence, Order, OrderStatus

    email = _orderer(pg_app, "bundle")
    client = _clients(pg_app, email, 1)[0]
    client.post("/shop/products/ipfonie-sip-bundle-s", data={"term": "24", "kombi": "no"})
    client.post("/shop/products/ums-paket", data={"trunk_id": _trunk_item(pg_app, email), "quantity": "2"})
    assert client.post("/cart/place", data={"token": _token(client)}).status_code == 303
    with pg_app.app_context():
        order = db.session.scalar(select(Order).join(Order.placed_by).where(Order.placed_by.has(email=email)))
        order_id, trunk_id = order.id, next(i.id for i in order.items if i.parent_id is None)
    first, second = _orderer(pg_app, "bo1", back_office=True), _orderer(pg_app, "bo2", back_office=True)
    clients = _clients(pg_app, first, PARALLEL // 2) + _clients(pg_app, second, PARALLEL // 2)
    data = {f"t{trunk_id}-channels": "4", f"t{trunk_id}-s0-name": "Leipzig", f"t{trunk_id}-s0-base": "+49 341 7770000",
            f"t{trunk_id}-s0-first": "0", f"t{trunk_id}-s0-last": "9"}

    statuses = run_at_once(PARALLEL, lambda n: clients[n].post(f"/backoffice/orders/{order_id}", data=data).status_code)
    assert sorted(statuses) == [200] + [409] * (PARALLEL - 1)
    assert _count(pg_app, Contract, Contract.source_order_id == order_id) == 1
    with pg_app.app_context():
        contract = db.session.scalar(select(Contract).where(Contract.source_order_id == order_id))
        assert db.session.get(Order, order_id).status == OrderStatus.PROVISIONED
        assert _count(pg_app, Licence, Licence.contract_id == contract.id) == 2  # exactly what was ordered
        assert len(contract.sites) == 1


def test_a_packages_term_is_its_trunks_whatever_races(pg_app):
    from webapp.extensions import db
    from webapp.models import CartItem, Order

    email = _orderer(pg_app, "term")
    clients = _clients(pg_app, email)
    clients[0].post("/shop/ipfonie-sip/trunks", data={"product": "ipfonie-sip-trunk", "term": "12", "kombi": "no"})
    trunk = _trunk_item(pg_app, email)

    def act(n):
        if n % 2:
            return clients[n].post(f"/cart/items/{trunk}/term", data={"term": str((12, 24, 36)[n % 3])}).status_code
        return clients[n].post("/shop/products/ums-paket",
                               data={"trunk_id": trunk, "quantity": "1", "term": "36"}).status_code

    statuses = run_at_once(PARALLEL, act)
    assert set(statuses) <= {200, 303}, statuses
    with pg_app.app_context():
        items = db.session.scalars(select(CartItem).where(CartItem.parent_id == trunk)).all()
        term = db.session.get(CartItem, trunk).min_term_months
        assert items and {i.min_term_months for i in items} == {term}
        assert sum(i.quantity for i in items) == PARALLEL // 2
    assert clients[0].post("/cart/place", data={"token": _token(clients[0])}).status_code == 303
    with pg_app.app_context():
        order = db.session.scalar(select(Order).where(Order.placed_by.has(email=email)))
        trunk_line = next(i for i in order.items if i.parent_id is None)
        assert {i.min_term_months for i in order.items} == {trunk_line.min_term_months}


def test_two_orders_provisioned_at_once_with_one_number_block_give_it_to_one(pg_app):
    from webapp.extensions import db
    from webapp.models import Contract, Order

    orders = []
    for tag in ("blockA", "blockB"):
        email = _orderer(pg_app, tag)
        client = _clients(pg_app, email, 1)[0]
        client.post("/shop/products/ipfonie-sip-bundle-s", data={"term": "12", "kombi": "no"})
        assert client.post("/cart/place", data={"token": _token(client)}).status_code == 303
        with pg_app.app_context():
            order = db.session.scalar(select(Order).where(Order.placed_by.has(email=email)))
            orders.append((order.id, next(i.id for i in order.items if i.parent_id is None)))
    back_office = _orderer(pg_app, "bo-block", back_office=True)
    clients = _clients(pg_app, back_office, 2)

    def provision(n):
        order_id, trunk_id = orders[n]
        data = {f"t{trunk_id}-channels": "4", f"t{trunk_id}-s0-name": "Dresden",
                f"t{trunk_id}-s0-base": "+49 351 8880000", f"t{trunk_id}-s0-first": "0", f"t{trunk_id}-s0-last": "49"}
        return clients[n].post(f"/backoffice/orders/{order_id}", data=data).status_code

    statuses = run_at_once(2, provision)
    assert sorted(statuses) in ([200, 409], [200, 422])  # the second sees the numbers taken
    assert _count(pg_app, Contract, Contract.source_order_id.in_([o for o, _ in orders])) == 1
