"""Garbage never gives a 500 in the UMS administration: ids too large for the database, NUL
bytes, unknown filter values. Each answer is a clear 4xx (or the page), and nothing is stored."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import HTMX, login
from tests.routes.test_admin import errors_of, new_profile_data
from webapp.models import AuditEntry, UmsProfile
from webapp.services import audit_trail, profiles

ADMIN = "admin@muster.example"
BIG = "99999999999999999999999"  # fits no 32-bit (PostgreSQL) nor 64-bit (SQLite) integer

GARBAGE_GETS = [
    f"/ums?contract={BIG}&site={BIG}&page={BIG}",
    "/ums?q=%00",
    f"/ums/profiles/new/sites?contract_id={BIG}",
    f"/ums/profiles/new?contract_id={BIG}&site_id={BIG}",
    f"/ums/audit?customer={BIG}&profile={BIG}&page={BIG}",
    "/ums/audit?q=%00&action=%00",
    f"/ums/profiles/{BIG}",
    f"/ums/profiles/{BIG}/services",
    f"/ums/profiles/{BIG}/services/fax/numbers",
    f"/ums/profiles/{BIG}/delete",
]


def _counts(session):
    return (session.scalar(select(func.count()).select_from(UmsProfile)),
            session.scalar(select(func.count()).select_from(AuditEntry)))


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_garbage_in_query_strings_and_urls_is_never_a_500(client, headers):
    login(client, ADMIN)
    answers = {url: client.get(url, headers=headers).status_code for url in GARBAGE_GETS}
    assert all(status < 500 for status in answers.values()), answers
    assert answers[f"/ums/profiles/{BIG}"] == 404
    assert answers[f"/ums/profiles/new/sites?contract_id={BIG}"] == 422


def test_garbage_posts_are_refused_and_store_nothing(client, db_session):
    login(client, ADMIN)
    before = _counts(db_session)
    anna = db_session.scalar(select(UmsProfile).where(UmsProfile.email_normalized.like("anna.schmidt%")))
    posts = [
        ("/ums/profiles/new", {"contract_id": BIG, "site_id": BIG, "last_name": "A", "first_name": "B",
                               "email": "big-ids@muster.example"}),
        (f"/ums/profiles/{anna.id}", {"last_name": "Schmidt", "first_name": "Anna", "site_id": BIG}),
        (f"/ums/profiles/{anna.id}/services/fax", {"number_id": BIG}),
        (f"/ums/profiles/{BIG}/delete", {}),
        (f"/ums/profiles/{BIG}/services/fax", {"number_id": "1"}),
    ]
    answers = [client.post(url, data=data, headers=HTMX).status_code for url, data in posts]
    assert answers == [422, 422, 422, 404, 404]
    assert _counts(db_session) == before


def test_control_characters_do_not_reach_names_or_searches(client, db_session):
    login(client, ADMIN)
    data = new_profile_data(db_session, "nul@muster.example", last_name="Nul\x00l", first_name="\x00")
    response = client.post("/ums/profiles/new", headers=HTMX, data=data)
    assert response.status_code == 422  # a first name of only a NUL is no first name
    assert errors_of(response.get_data(as_text=True), "first_name")
    # control characters are refused with a message next to the field, not silently removed
    response = client.post("/ums/profiles/new", headers=HTMX, data={**data, "first_name": "Nina"})
    assert response.status_code == 422
    assert "Steuerzeichen" in errors_of(response.get_data(as_text=True), "last_name")
    assert db_session.scalar(select(UmsProfile).where(UmsProfile.email_normalized == "nul@muster.example")) is None
    response = client.post("/ums/profiles/new", headers=HTMX, data={**data, "first_name": "Nina", "last_name": "Null"})
    assert response.status_code == 204 and response.headers["HX-Redirect"]


def test_services_treat_impossible_ids_as_nothing(db_session):
    assert not profiles.valid_id(2**31) and not profiles.valid_id(0) and not profiles.valid_id(True)
    assert profiles.valid_id(1) and profiles.valid_id(2**31 - 1)
    admin = db_session.scalar(select(profiles.User).where(profiles.User.email == ADMIN))
    page = profiles.list_profiles(db_session, admin, profiles.ProfileFilter(contract_id=10**30))
    assert page.total == 0 and page.rows == []
    trail = audit_trail.entries(db_session, admin, audit_trail.AuditFilter(profile_id=10**30, action="\x00",
                                                                          q="\x00", page=10**30))
    assert trail.entries == [] and trail.filter.page == 1
