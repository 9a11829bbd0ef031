"""The UMS-User-Dashboard and the admin's way to a profile's services."""

import re

import pytest
from sqlalchemy import select

from tests.conftest import HTMX, login
from webapp.models import ServiceAssignment, UmsProfile
from webapp.services import voicemail


def _anna(db_session) -> UmsProfile:
    return db_session.scalar(select(UmsProfile).where(UmsProfile.email == "anna.schmidt@muster.example"))


def test_user_dashboard_shows_three_services_with_numbers_and_new_messages(client, db_session):
    anna = _anna(db_session)
    new = voicemail.new_count(db_session, anna.id)
    login(client, "anna.schmidt@muster.example")
    page = client.get("/me")
    assert page.status_code == 200
    for label, number in (("Fax", "030 1234567-10"), ("Anrufbeantworter", "030 1234567-11"),
                          ("Konferenz", "030 1234567-12")):
        assert f"<h2>{label}</h2>" in page.text
        assert number in page.text
    assert f"{new} neue Nachrichten" in page.text
    assert f'href="/profiles/{anna.id}/voicemail"' in page.text
    partial = client.get("/me", headers=HTMX)
    assert partial.text.lstrip().startswith('<section id="services"')


def test_service_without_number_says_the_admin_assigns_one(client, db_session):
    anna = _anna(db_session)
    fax = db_session.scalar(select(ServiceAssignment).where(ServiceAssignment.profile_id == anna.id,
                                                            ServiceAssignment.service == "fax"))
    fax.number_id = None
    db_session.flush()
    login(client, "anna.schmidt@muster.example")
    page = client.get("/me")
    assert "Noch keine Rufnummer zugewiesen. Ihr Administrator weist eine zu." in page.text
    assert f'href="/profiles/{anna.id}/fax"' not in page.text


def test_admin_reaches_a_profiles_services_from_its_edit_page(client, db_session):
    anna = _anna(db_session)
    login(client, "admin@muster.example")
    page = client.get(f"/ums/profiles/{anna.id}")
    assert page.status_code == 200
    for service in ("fax", "voicemail", "conference"):
        assert f'href="/profiles/{anna.id}/{service}"' in page.text
    assert client.get(f"/profiles/{anna.id}/voicemail").status_code == 200


# --- Aktive Verträge and the back office: who may open them, and why not ---------------------------


@pytest.mark.parametrize(("email", "status", "reason"), [
    ("admin@muster.example", 200, None),
    ("admin2@muster.example", 200, None),  # without order permission: reads, cannot place orders
    ("mandant@nord.example", 200, None),
    ("betrieb@carrier.example", 200, None),
    ("anna.schmidt@muster.example", 403, "Als UMS-Benutzer können Sie nur Ihr eigenes UMS-Profil nutzen."),
])
def test_aktive_vertraege_opens_only_for_a_role_that_sees_contracts(client, email, status, reason):
    login(client, email)
    response = client.get("/contracts")
    assert response.status_code == status
    if reason:
        assert reason in response.text
        assert "Keine aktiven Verträge" not in response.text
    partial = client.get("/contracts", headers=HTMX)
    assert partial.status_code == status


def test_a_login_without_any_role_is_refused_aktive_vertraege_with_the_reason(client, db_session):
    from tests import factories

    user = factories.user(db_session, "no-role@muster.example", password="secret-password-1")
    db_session.flush()
    login(client, user.email, "secret-password-1")
    response = client.get("/contracts")
    assert response.status_code == 403
    assert "„Aktive Verträge“ setzt eine Administratorrolle oder die Bestellberechtigung" in response.text


@pytest.mark.parametrize("email", ["admin@muster.example", "admin2@muster.example", "anna.schmidt@muster.example",
                                   "mandant@nord.example", "reseller@partner.example"])
def test_only_the_back_office_opens_the_back_office(client, email):
    login(client, email)
    response = client.get("/backoffice")
    assert response.status_code == 403
    assert "Nur das Back Office des Netzbetreibers stellt bestellte SIP-Trunks bereit." in response.text


def test_aktive_vertraege_stacks_at_phone_width_with_each_cell_named(client):
    login(client, "admin@muster.example")
    text = client.get("/contracts").text
    assert 'class="striped stack-table"' in text
    assert re.search(r'<th scope="row"><a href="/contracts/\d+">V-200001</a></th>', text)
    assert 'data-label="Lizenz">2 / 5</td>' in text
