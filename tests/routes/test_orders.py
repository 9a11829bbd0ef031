"""The Bestellsystem over HTTP: „Aktive Verträge“ → „Vertrag anzeigen“ → „Nachbestellung“, the
catalogue, the Warenkorb (quantities, terms, removal with undo), „Beauftragen“ with and without
order permission, „Meine Bestellungen“ and the back office."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.conftest import login
from webapp.models import (
    Cart,
    CartItem,
    Contract,
    Licence,
)


def contract_id(db_session, number="V-200001") -> int:
    return db_session.scalar(select(Contract.id).where(Contract.number == number))


def licences(db_session, number="V-200001") -> int:
    return db_session.scalar(select(func.count()).select_from(Licence).join(Contract)
                             .where(Contract.number == number))


def cart_items(db_session, email) -> list[CartItem]:
    from webapp.models import User

    user = db_session.scalar(select(User).where(User.email == email))
    return list(db_session.scalars(select(CartItem).join(Cart).where(Cart.user_id == user.id,
                                                                     CartItem.removed_at.is_(None))))


def token_of(page: str) -> str:
    return re.search(r'name="token" value="([0-9a-f]*)"', page).group(1)


def reorder_with_ums(client, db_session, quantity="3"):
    """Nachbestellung of V-200001 plus ``quantity`` UMS packages; returns the cart page."""
    cid = contract_id(db_session)
    response = client.post(f"/contracts/{cid}/reorder")
    assert response.status_code == 303 and response.headers["Location"].endswith("/cart")
    trunk = db_session.scalar(select(CartItem).where(CartItem.contract_id == cid, CartItem.parent_id.is_(None))
                              .order_by(CartItem.id.desc()))
    response = client.post("/shop/products/ums-paket", data={"trunk_id": trunk.id, "quantity": quantity})
    assert response.status_code == 303, response.text
    return client.get("/cart")


def test_smoke_the_whole_path(client, db_session):
    login(client, "admin@muster.example")
    assert client.get("/contracts").status_code == 200
    page = client.get(f"/contracts/{contract_id(db_session)}")
    assert page.status_code == 200 and "Nachbestellung" in page.text
    for path in ("/shop", "/shop/ipfonie-sip", "/shop/ipfonie-sip/tarif-optionen", "/shop/ipfonie-sip/trunks",
                 "/shop/products/ums-paket", "/shop/products/ipfonie-sip-bundle-m", "/orders", "/cart"):
        assert client.get(path).status_code == 200, path
    cart = reorder_with_ums(client, db_session)
    assert "Unified Messaging Paket" in cart.text
    before = licences(db_session)
    response = client.post("/cart/place", data={"token": token_of(cart.text)})
    assert response.status_code == 303, response.text
    assert licences(db_session) == before + 3
    order = client.get(response.headers["Location"])
    assert order.status_code == 200
