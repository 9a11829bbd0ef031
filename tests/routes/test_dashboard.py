"""The UMS-User-Dashboard and the admin's way to a profile's services."""

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
