"""The Bestellsystem over HTTP: „Aktive Verträge“ → „Vertrag anzeigen“ → „Nachbestellung“, the
catalogue, the Warenkorb (quantities, terms, removal with undo), „Beauftragen“ with and without
order permission, „Meine Bestellungen“ and the back office."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from tests.conftest import HTMX, login
from webapp.models import (
    Cart,
    CartItem,
    Contract,
    Licence,
    MailMessage,
    Order,
    OrderStatus,
    PlatformEvent,
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


def placed_orders(db_session) -> int:
    return db_session.scalar(select(func.count()).select_from(Order)) or 0


# --- „Aktive Verträge“ → „Vertrag anzeigen“ ----------------------------------------------------

def test_contract_number_links_to_vertrag_anzeigen_with_everything_the_faq_names(client, db_session):
    login(client, "admin@muster.example")
    cid = contract_id(db_session)
    listing = client.get("/contracts").text
    assert f'<a href="/contracts/{cid}">V-200001</a>' in listing
    page = client.get(f"/contracts/{cid}")
    text = page.text
    assert page.status_code == 200
    for expected in ("Vertrag anzeigen: V-200001", "IPfonie SIP-Trunk", "24 Monate", "Frühestes Vertragsende",
                     "Kombi-Option", "Nein", "Berlin Zentrale", "030 1234567-0 … -99", "Hamburg",
                     "040 7654321-0 … -49", "2 / 5", "Schmidt, Anna", "Müller, Max", "Nachbestellung"):
        assert expected in text, expected
    partial = client.get(f"/contracts/{cid}", headers=HTMX)
    assert partial.text.lstrip().startswith("<section id=\"contract\">") or 'id="contract"' in partial.text[:400]
    assert "<html" not in partial.text


def test_a_contract_outside_the_callers_scope_is_404(client, db_session):
    login(client, "admin@muster.example")
    other = contract_id(db_session, "V-200002")  # Beispiel AG
    assert client.get(f"/contracts/{other}").status_code == 404
    assert client.post(f"/contracts/{other}/reorder").status_code == 404
    assert client.get("/contracts/2147483647").status_code == 404
    assert cart_items(db_session, "admin@muster.example") == []


def test_tenant_without_avv_sees_the_contract_but_not_the_profiles_and_cannot_reorder(client, db_session):
    login(client, "mandant@nord.example")
    page = client.get(f"/contracts/{contract_id(db_session)}")
    assert page.status_code == 200
    assert "Schmidt, Anna" not in page.text
    assert "disabled" in page.text and "Mandanten und Submandanten können für K-100001 nicht bestellen" in page.text
    response = client.post(f"/contracts/{contract_id(db_session)}/reorder")
    assert response.status_code == 403
    assert cart_items(db_session, "mandant@nord.example") == []


# --- catalogue and cart --------------------------------------------------------------------------

def test_catalogue_comes_from_the_products_table_with_german_prices(client, db_session):
    from webapp.models import Product, ProductKind

    login(client, "admin@muster.example")
    db_session.add(Product(code="ipfonie-sip-bundle-xl", kind=ProductKind.SIP_BUNDLE, name="Testbundle XL",
                           default_voice_channels=60, monthly_price_cents=123456, one_off_price_cents=0))
    db_session.flush()
    text = client.get("/shop/ipfonie-sip").text
    assert "Testbundle XL" in text and "1.234,56\xa0€" in text
    assert "IPfonie SIP-Trunk-Bundle S" in text and "29,90\xa0€" in text


@pytest.mark.parametrize(("quantity", "message"), [
    ("0", "mindestens 1"), ("-3", "mindestens 1"), ("abc", "ganze Zahl"), ("", "ganze Zahl"),
    ("99999999999999", "höchstens 500"), ("501", "höchstens 500"), ("1.5", "ganze Zahl"),
])
def test_bad_quantities_are_refused_next_to_the_field_and_store_nothing(client, db_session, quantity, message):
    login(client, "admin@muster.example")
    client.post(f"/contracts/{contract_id(db_session)}/reorder")
    trunk = cart_items(db_session, "admin@muster.example")[0]
    response = client.post("/shop/products/ums-paket", data={"trunk_id": trunk.id, "quantity": quantity},
                           headers=HTMX)
    assert response.status_code == 422
    assert 'id="quantity-errors"' in response.text and message in response.text
    assert f'value="{quantity}"' in response.text  # what was typed stays
    assert len(cart_items(db_session, "admin@muster.example")) == 1


def test_a_trunk_of_another_users_cart_or_a_product_of_another_line_is_refused(client, db_session):
    from webapp.models import Product, ProductKind, ProductLine

    login(client, "admin2@muster.example")
    client.post(f"/contracts/{contract_id(db_session)}/reorder")
    foreign = cart_items(db_session, "admin2@muster.example")[0]
    client.post("/logout")
    login(client, "admin@muster.example")
    response = client.post("/shop/products/ums-paket", data={"trunk_id": foreign.id, "quantity": "2"})
    assert response.status_code == 422 and "SIP-Trunk in Ihrem Warenkorb" in response.text
    db_session.add(Product(code="cf-ums", kind=ProductKind.UMS_PACKAGE, name="Centraflex UMS",
                           product_line=ProductLine.CENTRAFLEX, monthly_price_cents=1))
    db_session.flush()
    assert client.post("/shop/products/cf-ums", data={"trunk_id": foreign.id, "quantity": "1"}).status_code == 404
    assert client.get("/shop/products/no-such-product").status_code == 404
    assert cart_items(db_session, "admin@muster.example") == []
    # and the other user's cart line cannot be changed or removed from here
    assert client.post(f"/cart/items/{foreign.id}/remove").status_code == 404
    assert client.post(f"/cart/items/{foreign.id}/quantity", data={"quantity": "4"}).status_code == 404


def test_cart_groups_by_trunk_changes_quantities_in_place_and_removes_with_undo(client, db_session):
    login(client, "admin@muster.example")
    cart = reorder_with_ums(client, db_session, "2")
    assert "V-200001" in cart.text and "+ Weitere Produkte zufügen" in cart.text
    assert "9,80\xa0€" in cart.text  # 2 × 4,90 € net
    ums = next(i for i in cart_items(db_session, "admin@muster.example") if i.parent_id)
    changed = client.post(f"/cart/items/{ums.id}/quantity", data={"quantity": "4"}, headers=HTMX)
    assert changed.status_code == 200 and 'id="cart"' in changed.text and "19,60\xa0€" in changed.text
    assert 'hx-swap-oob="true"' in changed.text  # the cart icon's count comes along
    assert json.loads(changed.headers["HX-Trigger"]) == {"toast": "Stückzahl geändert."}
    bad = client.post(f"/cart/items/{ums.id}/quantity", data={"quantity": "null"}, headers=HTMX)
    assert bad.status_code == 422 and f'id="qty-{ums.id}-errors"' in bad.text
    db_session.expire_all()
    assert db_session.get(CartItem, ums.id).quantity == 4

    trunk = next(i for i in cart_items(db_session, "admin@muster.example") if i.parent_id is None)
    removed = client.post(f"/cart/items/{trunk.id}/remove", headers=HTMX)
    assert "wurde aus dem Warenkorb entfernt" in removed.text and "Rückgängig" in removed.text
    assert cart_items(db_session, "admin@muster.example") == []  # the package went with its trunk
    restored = client.post(f"/cart/items/{trunk.id}/restore", headers=HTMX)
    assert restored.status_code == 200 and "Unified Messaging Paket" in restored.text
    assert len(cart_items(db_session, "admin@muster.example")) == 2


def test_new_trunk_without_voice_channels_warns_and_ums_term_follows_the_trunk(client, db_session):
    login(client, "admin@muster.example")
    response = client.post("/shop/ipfonie-sip/trunks", data={"product": "ipfonie-sip-trunk", "term": "12",
                                                              "kombi": "yes"})
    assert response.status_code == 303
    trunk = cart_items(db_session, "admin@muster.example")[0]
    assert (trunk.min_term_months, trunk.kombi_option) == (12, True)
    page = client.get("/cart").text
    assert "Vergessen Sie nicht, auch Sprachkanäle für den SIP-Trunk zu beauftragen." in page
    # the posted term of a package is ignored: it is always the trunk's
    client.post("/shop/products/ums-paket", data={"trunk_id": trunk.id, "quantity": "2", "term": "36"})
    ums = next(i for i in cart_items(db_session, "admin@muster.example") if i.parent_id)
    assert ums.min_term_months == 12
    client.post(f"/cart/items/{trunk.id}/term", data={"term": "36"})
    db_session.expire_all()
    assert db_session.get(CartItem, ums.id).min_term_months == 36
    assert client.post(f"/cart/items/{ums.id}/term", data={"term": "24"}).status_code == 422
    assert client.post(f"/cart/items/{trunk.id}/term", data={"term": "18"}).status_code == 422
    client.post("/shop/products/ipfonie-sprachkanal", data={"trunk_id": trunk.id, "quantity": "8"})
    assert "Vergessen Sie nicht" not in client.get("/cart").text


def test_the_database_refuses_a_package_term_other_than_its_trunks(db_session):
    from sqlalchemy.exc import IntegrityError

    from webapp.models import User
    from webapp.services import cart as cart_service

    admin = db_session.scalar(select(User).where(User.email == "admin@muster.example"))
    contract = db_session.get(Contract, contract_id(db_session))
    trunk = cart_service.add_existing_trunk(db_session, admin, contract)
    from webapp.models import Product

    ums = db_session.scalar(select(Product).where(Product.code == "ums-paket"))
    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.add(CartItem(cart_id=trunk.cart_id, product_id=ums.id, parent_id=trunk.id, quantity=1,
                                min_term_months=12))
        db_session.flush()


# --- „Beauftragen“ -------------------------------------------------------------------------------

def test_admin2_fills_the_cart_but_beauftragen_is_disabled_and_a_forged_post_is_403(client, db_session):
    login(client, "admin2@muster.example")
    cart = reorder_with_ums(client, db_session, "2")
    assert cart.status_code == 200
    assert '<button type="submit" disabled aria-describedby="place-reason">Beauftragen</button>' in cart.text
    assert "Bestellberechtigung" in cart.text
    before_licences, before_mails = licences(db_session), db_session.scalar(select(func.count()).select_from(MailMessage))
    forged = client.post("/cart/place", data={"token": token_of(cart.text)})
    assert forged.status_code == 403 and "Bestellberechtigung" in forged.text
    partial = client.post("/cart/place", data={"token": token_of(cart.text)}, headers=HTMX)
    assert partial.status_code == 403 and "<html" not in partial.text
    assert placed_orders(db_session) == 0
    assert licences(db_session) == before_licences
    assert db_session.scalar(select(func.count()).select_from(MailMessage)) == before_mails
    assert len(cart_items(db_session, "admin2@muster.example")) == 2  # the cart is kept


def test_beauftragen_places_one_order_with_snapshot_audit_mail_licences_and_event(client, db_session):
    from webapp.models import AuditEntry

    login(client, "admin@muster.example")
    cart = reorder_with_ums(client, db_session, "3")
    token = token_of(cart.text)
    before = licences(db_session)
    response = client.post("/cart/place", data={"token": token})
    assert response.status_code == 303
    order = db_session.scalar(select(Order))
    assert re.fullmatch(r"B-\d{4}-\d{6}", order.number)
    assert order.status == OrderStatus.PROVISIONED  # an existing trunk only: done at once
    assert [(i.product_name, i.quantity, i.monthly_price_cents) for i in order.items] == [
        ("IPfonie SIP-Trunk V-200001", 1, 0), ("Unified Messaging Paket", 3, 490)]
    assert licences(db_session) == before + 3
    assert db_session.scalar(select(AuditEntry).where(AuditEntry.action == "order.placed")).subject == order.number
    mail = db_session.scalar(select(MailMessage).where(MailMessage.subject.contains(order.number)))
    assert mail.recipient == "admin@muster.example"
    assert "3 × Unified Messaging Paket" in mail.body_text and "17,49\xa0€" in mail.body_text
    event = db_session.scalar(select(PlatformEvent).where(PlatformEvent.kind == "licences.added"))
    assert event.payload["count"] == 3
    assert cart_items(db_session, "admin@muster.example") == []
    # a replay of the same post (double click, second tab) finds the same order
    again = client.post("/cart/place", data={"token": token})
    assert again.status_code == 303 and again.headers["Location"] == response.headers["Location"]
    assert placed_orders(db_session) == 1 and licences(db_session) == before + 3
    page = client.get(response.headers["Location"])
    assert order.number in page.text and "Lizenzen sind gebucht" in page.text
    mine = client.get("/orders")
    assert order.number in mine.text and "Erledigt" in mine.text


def test_a_stale_cart_token_is_refused_and_places_nothing(client, db_session):
    login(client, "admin@muster.example")
    cart = reorder_with_ums(client, db_session, "1")
    stale = token_of(cart.text)
    ums = next(i for i in cart_items(db_session, "admin@muster.example") if i.parent_id)
    client.post(f"/cart/items/{ums.id}/quantity", data={"quantity": "5"})
    response = client.post("/cart/place", data={"token": stale})
    assert response.status_code == 409 and "Warenkorb hat sich geändert" in response.text
    assert placed_orders(db_session) == 0


def test_orders_of_other_customers_are_404(client, db_session):
    login(client, "admin@muster.example")
    cart = reorder_with_ums(client, db_session, "1")
    location = client.post("/cart/place", data={"token": token_of(cart.text)}).headers["Location"]
    client.post("/logout")
    login(client, "cf-admin@beispiel.example")
    assert client.get(location).status_code == 404


# --- back office ---------------------------------------------------------------------------------

def place_new_bundle(client, db_session, email="admin@muster.example") -> Order:
    login(client, email)
    client.post("/shop/products/ipfonie-sip-bundle-s", data={"term": "36", "kombi": "no"})
    trunk = cart_items(db_session, email)[0]
    client.post("/shop/products/ums-paket", data={"trunk_id": trunk.id, "quantity": "2"})
    client.post("/shop/products/ipfonie-sprachkanal", data={"trunk_id": trunk.id, "quantity": "2"})
    response = client.post("/cart/place", data={"token": token_of(client.get("/cart").text)})
    assert response.status_code == 303
    client.post("/logout")
    return db_session.scalar(select(Order).order_by(Order.id.desc()))


def site_form(order, **overrides):
    trunk = next(i for i in order.items if i.parent_id is None)
    data = {f"t{trunk.id}-channels": "6", f"t{trunk.id}-s0-name": "Frankfurt",
            f"t{trunk.id}-s0-base": "+49 69 4440000", f"t{trunk.id}-s0-first": "0", f"t{trunk.id}-s0-last": "9"}
    data.update({f"t{trunk.id}-{k}": v for k, v in overrides.items()})
    return trunk, data


def test_back_office_provisions_a_new_trunk_into_an_active_contract(client, db_session):
    order = place_new_bundle(client, db_session)
    assert order.status == OrderStatus.PLACED
    login(client, "betrieb@carrier.example")
    listing = client.get("/backoffice")
    assert order.number in listing.text
    page = client.get(f"/backoffice/orders/{order.id}")
    assert page.status_code == 200 and 'value="6"' in page.text  # 4 in the bundle + 2 channels
    trunk, data = site_form(order)
    response = client.post(f"/backoffice/orders/{order.id}", data=data)
    assert response.status_code == 200, response.text
    contract = db_session.scalar(select(Contract).where(Contract.source_order_item_id == trunk.id))
    assert (contract.min_term_months, contract.voice_channels) == (36, 6)
    assert [s.name for s in contract.sites] == ["Frankfurt"]
    assert licences(db_session, contract.number) == 2
    db_session.expire_all()
    assert db_session.get(Order, order.id).status == OrderStatus.PROVISIONED
    event = db_session.scalar(select(PlatformEvent).where(PlatformEvent.kind == "contract.provisioned"))
    assert event.payload["contract"] == contract.number and event.payload["licences"] == 2
    assert db_session.scalar(select(MailMessage).where(MailMessage.subject.contains(order.number),
                                                       MailMessage.subject.contains("aktiv")))
    # a second provisioning of the same order is refused and makes nothing
    again = client.post(f"/backoffice/orders/{order.id}", data=data)
    assert again.status_code == 409
    assert db_session.scalar(select(func.count()).select_from(Contract)
                             .where(Contract.source_order_id == order.id)) == 1


@pytest.mark.parametrize(("field", "value", "shown_at", "message"), [
    ("s0-base", "030 123", "s0-base", "internationalen Format"),
    ("s0-base", "+49 30 1234567", "s0-range", "bestehenden Rufnummern"),  # V-200001's Berlin block
    ("s0-first", "20", "s0-range", "erste und letzte Durchwahl"),
    ("s0-last", "abc", "s0-range", "erste und letzte Durchwahl"),
    ("s0-last", "5000", "s0-range", "höchstens 1000 Durchwahlen"),
    ("s0-name", "", "s0-name", "Namen des Standorts"),
    ("channels", "0", "channels", "Sprachkanäle"),
    ("s1-base", "+49 69 4440000", "s1-name", "Namen des Standorts"),
])
def test_bad_provisioning_input_is_refused_next_to_the_field(client, db_session, field, value, shown_at, message):
    order = place_new_bundle(client, db_session)
    login(client, "betrieb@carrier.example")
    trunk, data = site_form(order, **{field: value})
    response = client.post(f"/backoffice/orders/{order.id}", data=data, headers=HTMX)
    assert response.status_code == 422
    error_id = f"t{trunk.id}-{shown_at}-errors"
    assert f'id="{error_id}"' in response.text and message in response.text
    assert db_session.scalar(select(func.count()).select_from(Contract)
                             .where(Contract.source_order_id == order.id)) == 0


def test_back_office_refuses_an_order_with_a_reason(client, db_session):
    order = place_new_bundle(client, db_session)
    login(client, "betrieb@carrier.example")
    empty = client.post(f"/backoffice/orders/{order.id}/refuse", data={"reason": "  "})
    assert empty.status_code == 422 and 'id="reason-errors"' in empty.text
    response = client.post(f"/backoffice/orders/{order.id}/refuse", data={"reason": "Standort nicht versorgbar"})
    assert response.status_code == 303
    db_session.expire_all()
    assert db_session.get(Order, order.id).status == OrderStatus.REFUSED
    client.post("/logout")
    login(client, "admin@muster.example")
    assert "Abgelehnt" in client.get("/orders").text
    assert "Standort nicht versorgbar" in client.get(f"/orders/{order.id}").text


@pytest.mark.parametrize("email", ["admin@muster.example", "admin2@muster.example", "mandant@nord.example"])
def test_only_the_back_office_provisions(client, db_session, email):
    order = place_new_bundle(client, db_session)
    login(client, email)
    trunk, data = site_form(order)
    assert client.post(f"/backoffice/orders/{order.id}", data=data).status_code == 403
    assert client.post(f"/backoffice/orders/{order.id}/refuse", data={"reason": "x"}).status_code == 403
    db_session.expire_all()
    assert db_session.get(Order, order.id).status == OrderStatus.PLACED


# --- query counts --------------------------------------------------------------------------------

@pytest.fixture
def count_queries(app):
    from sqlalchemy import event

    engine = app.extensions["db"].engine
    statements: list[str] = []

    def _count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", _count)
    yield statements
    event.remove(engine, "before_cursor_execute", _count)


def test_cart_page_query_count_does_not_grow_with_lines(client, db_session, count_queries):
    login(client, "admin@muster.example")
    reorder_with_ums(client, db_session, "1")
    client.get("/cart")
    count_queries.clear()
    client.get("/cart")
    few = len(count_queries)
    for _ in range(4):
        client.post("/shop/products/ipfonie-sip-bundle-m", data={"term": "24", "kombi": "no"})
    for trunk in [i for i in cart_items(db_session, "admin@muster.example") if i.parent_id is None]:
        client.post("/shop/products/ums-paket", data={"trunk_id": trunk.id, "quantity": "2"})
        if trunk.contract_id is None:
            client.post("/shop/products/ipfonie-sprachkanal", data={"trunk_id": trunk.id, "quantity": "2"})
    count_queries.clear()
    page = client.get("/cart")
    assert page.text.count('class="cart-group"') == 5
    assert len(count_queries) == few, "\n".join(count_queries)


def test_contract_page_query_count_does_not_grow_with_sites_and_profiles(client, db_session, count_queries):
    from webapp.services import demo

    login(client, "admin@muster.example")
    cid = contract_id(db_session)
    client.get(f"/contracts/{cid}")
    count_queries.clear()
    client.get(f"/contracts/{cid}")
    few = len(count_queries)
    contract = db_session.get(Contract, cid)
    db_session.add_all(Licence(contract_id=cid) for _ in range(10))
    db_session.flush()
    for n in range(6):
        site = demo.add_site(db_session, contract, f"Filiale {n}", f"+4961{n}5550000", 0, 4)
        demo.add_profile(db_session, contract, site, f"Vor{n}", f"Nach{n}", f"count{n}@muster.example", None)
    db_session.commit()
    count_queries.clear()
    page = client.get(f"/contracts/{cid}")
    assert page.text.count("Filiale ") >= 6 and "Nach5, Vor5" in page.text
    assert len(count_queries) == few, "\n".join(count_queries)


class TestCarrierName:
    @pytest.fixture
    def app_config(self):
        return {"CARRIER_NAME": "Plusnet"}

    def test_page_titles_carry_the_carriers_name(self, client):
        login(client, "admin@muster.example")
        page = client.get("/cart").text
        assert "<title>Plusnet – Warenkorb · UMS-Portal</title>" in page
        assert "<h1>Plusnet – Warenkorb</h1>" in page
        assert "<h1>Plusnet – IPfonie SIP</h1>" in client.get("/shop/ipfonie-sip").text


def test_without_a_carrier_name_the_title_is_just_warenkorb(client):
    login(client, "admin@muster.example")
    assert "<h1>Warenkorb</h1>" in client.get("/cart").text


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"product": "ipfonie-sip-trunk", "term": "18", "kombi": "no"}, "term", "12, 24 oder 36"),
    ({"product": "ums-paket", "term": "24", "kombi": "no"}, "product", "SIP-Trunk"),
    ({"product": "gibt-es-nicht", "term": "24", "kombi": "no"}, "product", "SIP-Trunk"),
])
def test_single_trunk_steps_refuse_bad_choices_next_to_the_field(client, db_session, data, field, message):
    login(client, "admin@muster.example")
    response = client.post("/shop/ipfonie-sip/trunks", data=data, headers=HTMX)
    assert response.status_code == 422
    assert f'id="{field}-errors"' in response.text and message in response.text
    assert cart_items(db_session, "admin@muster.example") == []


def test_ordering_pages_refuse_tenants_and_back_office_with_the_reason(client):
    login(client, "mandant@nord.example")
    response = client.get("/shop")
    assert response.status_code == 403 and "Mandanten und Submandanten" in response.text
    client.post("/logout")
    login(client, "betrieb@carrier.example")
    assert client.get("/cart").status_code == 403


@pytest.mark.parametrize(("path", "data"), [
    ("/shop/products/ums%00paket", {"quantity": "1"}),
    ("/cart/place", {"token": "\x00" * 40}),
    ("/shop/products/ums-paket", {"trunk_id": "\x00", "quantity": "\x00"}),
    ("/shop/ipfonie-sip/trunks", {"product": "ipfonie\x00", "term": "\x00", "kombi": "\x00"}),
    ("/shop/products/ums-paket", {"trunk_id": "99999999999999999999", "quantity": "1"}),
    ("/cart/items/99999999999/quantity", {"quantity": "1"}),
])
def test_garbage_never_gives_a_500(client, db_session, path, data):
    login(client, "admin@muster.example")
    response = client.post(path, data=data)
    assert response.status_code in (404, 409, 422), response.text[:300]
    assert cart_items(db_session, "admin@muster.example") == [] and placed_orders(db_session) == 0


def test_cart_partial_for_htmx_and_htmx_redirect_to_login_when_signed_out(client, db_session):
    response = client.post("/cart/items/1/quantity", data={"quantity": "2"}, headers=HTMX)
    assert response.status_code == 401 and response.headers["HX-Redirect"].startswith("/login")
    login(client, "admin@muster.example")
    partial = client.get("/cart", headers=HTMX)
    assert partial.status_code == 200 and "<html" not in partial.text
    assert partial.text.lstrip().startswith('<section id="cart"') and "HX-Request" in partial.headers["Vary"]
    page = client.get("/cart")
    assert "<html" in page.text and page.text.count('id="cart-badge"') == 1
