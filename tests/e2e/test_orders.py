"""The FAQ's ordering path in a browser: a Nachbestellung of V-200001 with 3 „Unified Messaging
Paket“ (licences at once, usable for 3 more profiles), a new SIP trunk bundle with voice channels
and 2 packages provisioned by the back office into a contract a profile can use, and an admin
without order permission who fills the cart but cannot place it.

Everything this module adds to V-200001 (licences, profiles) is removed at the end, so other
browser tests see the demo's 2 / 5 again."""

from __future__ import annotations

import random
import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in
from tests.e2e.test_login import axe_violations

ADMIN = "admin@muster.example"
DOMAIN = "e2e-orders.example"
RUN = uuid.uuid4().hex[:6]


@pytest.fixture(scope="module", autouse=True)
def remove_what_this_module_created(live_app):
    yield
    from sqlalchemy import delete, select

    from webapp.extensions import db
    from webapp.models import Cart, CartItem, Contract, Licence, UmsProfile, User
    from webapp.services import profiles

    with live_app.app_context():
        session = db.session
        admin = session.scalar(select(User).where(User.email == ADMIN))
        for profile in session.scalars(select(UmsProfile).where(UmsProfile.email_normalized.like(f"%@{DOMAIN}"))):
            profiles.delete_profile(session, admin, profile)
        v1 = session.scalar(select(Contract).where(Contract.number == "V-200001"))
        session.execute(delete(Licence).where(Licence.contract_id == v1.id, Licence.order_id.is_not(None)))
        session.execute(delete(CartItem).where(CartItem.cart_id.in_(select(Cart.id))))
        session.commit()


def open_menu(page: Page, menu: str, entry: str) -> None:
    navigation = page.get_by_role("navigation", name="Hauptnavigation")
    navigation.get_by_text(menu, exact=True).click()
    navigation.get_by_role("link", name=entry, exact=True).click()


def licence_line(page: Page) -> tuple[int, int]:
    used, total = page.get_by_test_id("contract-licences").inner_text().split("/")
    return int(used), int(total)


def ums_package(page: Page, quantity: str) -> None:
    """From the cart: „+ Weitere Produkte zufügen“ → „IPfonie SIP“ → „IPfonie Tarif-Optionen“ →
    „Unified Messaging Paket“ → quantity → „In den Warenkorb“."""
    page.get_by_role("link", name="+ Weitere Produkte zufügen").click()
    page.get_by_role("link", name="IPfonie SIP", exact=True).click()
    page.get_by_role("link", name="IPfonie Tarif-Optionen").click()
    page.get_by_role("link", name="Unified Messaging Paket").click()
    expect(page.get_by_role("heading", name="Unified Messaging Paket")).to_be_visible()
    page.get_by_label("Stückzahl").fill(quantity)
    page.get_by_role("button", name="In den Warenkorb").click()
    expect(page.get_by_role("heading", level=1, name="Warenkorb")).to_be_visible()


def create_profile(page: Page, contract_label: str, site: str, last: str, email: str) -> None:
    page.goto("/ums/profiles/new")
    page.get_by_label("Vertrag / Enterprise").select_option(label=contract_label)
    page.get_by_label("Standort / Gruppe").select_option(label=site)
    page.get_by_label("Name", exact=True).fill(last)
    page.get_by_label("Vorname", exact=True).fill("Olga")
    page.get_by_label("E-Mail-Adresse", exact=True).fill(email)
    page.get_by_role("button", name="Speichern").click()


def fill_up(live_app, number: str, free_to_leave: int) -> None:
    """Use the free licences of a contract up to ``free_to_leave`` (quickly, through the service)."""
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Contract, User
    from webapp.services import profiles

    with live_app.app_context():
        session = db.session
        admin = session.scalar(select(User).where(User.email == ADMIN))
        contract = session.scalar(select(Contract).where(Contract.number == number))
        free = profiles.licence_line(session, contract).free
        for n in range(free - free_to_leave):
            profiles.create_profile(session, admin, contract_id=contract.id, site_id=contract.sites[0].id,
                                    last_name=f"Fill{n}", first_name="Fred", email=f"fill{n}.{RUN}@{DOMAIN}")
            session.commit()


def test_nachbestellung_of_v200001_raises_its_licences_by_3(page: Page, live_app):
    sign_in(page, ADMIN)
    open_menu(page, "Globale Verwaltung", "Aktive Verträge")
    expect(page.get_by_role("heading", level=1, name="Aktive Verträge")).to_be_visible()
    page.get_by_role("link", name="V-200001").click()
    expect(page.get_by_role("heading", level=1, name=re.compile("Vertrag anzeigen: V-200001"))).to_be_visible()
    used, total = licence_line(page)
    assert axe_violations(page) == []
    page.get_by_label("Aktionen für Vertrag V-200001").click()
    page.get_by_role("button", name="Nachbestellung").click()

    expect(page.get_by_role("heading", level=1, name="Warenkorb")).to_be_visible()
    expect(page.get_by_role("heading", level=2, name=re.compile("V-200001"))).to_be_visible()
    expect(page.get_by_test_id("cart-count")).to_have_text("1")
    ums_package(page, "3")
    expect(page.get_by_test_id("line-ums-paket").get_by_label(re.compile("Stückzahl"))).to_have_value("3")
    expect(page.get_by_test_id("cart-count")).to_have_text("2")
    expect(page.get_by_test_id("total-monthly")).to_contain_text("17,49")  # 3 × 4,90 € + 19 % USt.
    page.get_by_role("button", name="Beauftragen").click()

    expect(page.get_by_role("heading", level=1, name=re.compile(r"Bestellung B-"))).to_be_visible()
    expect(page.get_by_test_id("order-state")).to_contain_text("Lizenzen sind gebucht")
    open_menu(page, "Globale Verwaltung", "Aktive Verträge")
    page.get_by_role("link", name="V-200001").click()
    assert licence_line(page) == (used, total + 3)

    # that many more profiles: fill up to the old total, then 3 more in the browser, then refused
    fill_up(live_app, "V-200001", free_to_leave=3)
    for n in range(3):
        create_profile(page, "V-200001 · Muster GmbH", "Hamburg", f"Mehr{n}", f"more{n}.{RUN}@{DOMAIN}")
        expect(page.get_by_role("heading", name="Unified Messaging Profil bearbeiten")).to_be_visible()
    create_profile(page, "V-200001 · Muster GmbH", "Hamburg", "Zuviel", f"too.many.{RUN}@{DOMAIN}")
    expect(page.locator("#licence-errors")).to_contain_text("Nachbestellung")
    page.locator("#site-field").get_by_role("link", name="Nachbestellung").click()
    expect(page.get_by_role("button", name="Nachbestellung")).to_be_visible()  # the gear menu is open


def test_new_trunk_bundle_is_provisioned_into_a_contract_a_profile_can_use(page: Page, browser):
    sign_in(page, ADMIN)
    page.get_by_role("navigation", name="Hauptnavigation").get_by_role("link", name="Bestellsystem").click()
    page.get_by_role("link", name="IPfonie SIP", exact=True).click()
    page.get_by_role("link", name="IPfonie SIP-Trunk-Bundle S").click()
    page.get_by_label("36 Monate").check()
    page.get_by_role("button", name="In den Warenkorb").click()
    expect(page.get_by_role("heading", level=1, name="Warenkorb")).to_be_visible()

    page.get_by_role("link", name="+ Weitere Produkte zufügen").click()
    page.get_by_role("link", name="IPfonie SIP", exact=True).click()
    page.get_by_role("link", name="IPfonie Sprachkanal").click()
    page.get_by_label("Stückzahl").fill("2")
    page.get_by_role("button", name="In den Warenkorb").click()
    ums_package(page, "2")
    group = page.locator("article.cart-group", has_text="IPfonie SIP-Trunk-Bundle S")
    expect(group).to_contain_text("Laufzeit des SIP-Trunks: 36 Monate")
    expect(page.get_by_text("Vergessen Sie nicht")).to_have_count(0)  # the bundle has channels
    page.get_by_role("button", name="Beauftragen").click()
    heading = page.get_by_role("heading", level=1, name=re.compile(r"Bestellung B-"))
    expect(heading).to_be_visible()
    number = heading.inner_text().split()[-1]
    expect(page.get_by_test_id("order-state")).to_contain_text("Back Office")

    back_office = browser.new_context(locale="de-DE", base_url=page.url.split("/orders")[0])
    bo = back_office.new_page()
    sign_in(bo, "betrieb@carrier.example")
    bo.get_by_role("link", name=number).click()
    expect(bo.get_by_label("Sprachkanäle")).to_have_value("6")  # 4 in the bundle + 2
    assert axe_violations(bo) == []
    base = f"+49 69 {random.randint(1000000, 9999999)}"
    bo.get_by_label("Standort / Gruppe").first.fill("Frankfurt")
    bo.get_by_label("Stammrufnummer (E.164)").first.fill("+49 30 1234567")  # overlaps V-200001
    bo.get_by_label("Erste Durchwahl").first.fill("0")
    bo.get_by_label("Letzte Durchwahl").first.fill("19")
    bo.get_by_role("button", name="Bereitstellen und aktivieren").click()
    expect(bo.get_by_role("alert").filter(has_text="bestehenden Rufnummern")).to_be_visible()
    bo.get_by_label("Stammrufnummer (E.164)").first.fill(base)
    bo.get_by_role("button", name="Bereitstellen und aktivieren").click()
    contract = bo.get_by_test_id("new-contract")
    expect(contract).to_be_visible()
    contract_number = contract.inner_text()
    back_office.close()

    page.goto("/orders")
    expect(page.get_by_test_id(f"state-{number}")).to_have_text("Erledigt")
    open_menu(page, "Globale Verwaltung", "Aktive Verträge")
    page.get_by_role("link", name=contract_number).click()
    expect(page.get_by_test_id("contract-licences")).to_have_text("0 / 2")
    expect(page.get_by_text("36 Monate")).to_be_visible()
    create_profile(page, f"{contract_number} · Muster GmbH", "Frankfurt", "Neu", f"new.{RUN}@{DOMAIN}")
    expect(page.get_by_role("heading", name="Unified Messaging Profil bearbeiten")).to_be_visible()
    national = base.replace("+49 69 ", "069 ")
    select = page.get_by_label("Freie Rufnummer für Fax")
    expect(select.locator("option", has_text=re.compile(rf"^{re.escape(national)}-7$"))).to_have_count(1)
    select.select_option(label=f"{national}-7")
    page.get_by_role("button", name="Rufnummer Fax zuweisen").click()
    expect(page.get_by_test_id("number-fax")).to_have_text(f"{national}-7")


def test_admin_without_order_permission_fills_the_cart_but_cannot_place_it(page: Page):
    sign_in(page, "admin2@muster.example")
    open_menu(page, "Globale Verwaltung", "Aktive Verträge")
    page.get_by_role("link", name="V-200001").click()
    page.get_by_label("Aktionen für Vertrag V-200001").click()
    page.get_by_role("button", name="Nachbestellung").click()
    ums_package(page, "1")
    place = page.get_by_role("button", name="Beauftragen")
    expect(place).to_be_disabled()
    expect(page.locator("#place-reason")).to_contain_text("Bestellberechtigung")
    page.set_viewport_size({"width": 390, "height": 900})
    assert axe_violations(page) == []
    page.set_viewport_size({"width": 1280, "height": 900})
    # the cart survives sign-out
    page.get_by_role("button", name="Abmelden").click()
    sign_in(page, "admin2@muster.example")
    page.goto("/cart")
    expect(page.get_by_test_id("cart-count")).to_have_text("2")
