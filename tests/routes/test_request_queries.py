"""What every signed-in request loads, it loads once: the user with their grants in one query,
the navigation only where a page shows it, the voicemail badge once."""

from __future__ import annotations

import pytest

from tests.conftest import HTMX, login
from tests.querycount import MAX_LIST_STATEMENTS, statements_of, touching
from tests.services.test_voicemail import anna


@pytest.mark.parametrize(("email", "url"), [
    ("admin@muster.example", "/ums"),
    ("mandant@nord.example", "/ums"),
    ("anna.schmidt@muster.example", None),
    ("admin@muster.example", None),
])
def test_user_and_grants_come_in_one_query(client, db_session, engine, email, url):
    url = url or f"/profiles/{anna(db_session).id}/voicemail"
    login(client, email)
    client.get(url)
    for headers in (HTMX, {}):
        statements = statements_of(client, engine, url, headers)
        assert len(touching(statements, "role_grants")) == 1, "\n".join(statements)
        assert len(touching(statements, "users")) <= 2  # the signed-in user; profile list: the page's users


@pytest.mark.parametrize(("email", "url"), [
    ("admin@muster.example", "/ums"),
    ("anna.schmidt@muster.example", None),
])
def test_the_navigation_costs_no_query_of_its_own(client, db_session, engine, email, url):
    """The full page (navigation, badges) reads nothing the fragment did not need but what only it
    shows: a UMS user's fax badge on the voicemail page (one statement); the contracts with their
    sites (the filters) and licence lines above the profile list (two)."""
    url = url or f"/profiles/{anna(db_session).id}/voicemail"
    login(client, email)
    client.get(url)
    fragment = statements_of(client, engine, url, HTMX)
    page = statements_of(client, engine, url)
    only_on_the_page = 2 if url == "/ums" else 1
    assert len(fragment) <= len(page) <= len(fragment) + only_on_the_page, "\n".join(page)
    assert len(page) <= MAX_LIST_STATEMENTS, "\n".join(page)


def test_the_badge_is_counted_once_on_the_dashboard(client, db_session, engine):
    login(client, "anna.schmidt@muster.example")
    client.get("/me")
    statements = statements_of(client, engine, "/me")
    new_counts = [s for s in statements if "FROM voicemail_messages" in s and "heard_at IS NULL" in s]
    assert len(new_counts) == 1, "\n".join(statements)


@pytest.mark.parametrize(("email", "url", "expected"), [
    ("admin@muster.example", "/ums", 2),  # the user with grants; the page with its COUNT
    # the profile with its numbers (and settings) comes with the user: the page is the second
    ("anna.schmidt@muster.example", "/profiles/{anna}/voicemail", 2),
    ("anna.schmidt@muster.example", "/profiles/{anna}/fax", 2),
])
def test_list_fragments_in_the_fewest_statements(client, db_session, engine, email, url, expected):
    """Issue 12: each statement is a round trip on PostgreSQL; the list fragments keep to these
    when rendered (a query of its own, so not from the fragment cache: tests/routes/test_fragment_cache.py)."""
    url = url.format(anna=anna(db_session).id)
    login(client, email)
    client.get(url, headers=HTMX)
    statements = statements_of(client, engine, url + "?page=1", HTMX)
    assert len(statements) == expected, "\n".join(statements)


@pytest.mark.parametrize("service", ["voicemail", "fax"])
def test_a_profile_loaded_with_the_user_is_still_checked(app, client, db_session, service):
    """The profile that comes with the session check is only loaded there: an unknown one is 404
    with the reason, another user's is refused as before, one's own is shown."""
    own = anna(db_session).id
    login(client, "anna.schmidt@muster.example")
    unknown = client.get(f"/profiles/{own + 100_000}/{service}", headers=HTMX)
    assert unknown.status_code == 404 and "existiert nicht" in unknown.text
    assert client.get(f"/profiles/{own}/{service}", headers=HTMX).status_code == 200
    other = login(app.test_client(), "max.mueller@muster.example", "demo-user-2026")
    theirs = other.get(f"/profiles/{own}/{service}", headers=HTMX)
    assert theirs.status_code == 404 and "Anna" not in theirs.text
