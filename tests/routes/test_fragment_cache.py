"""Issue 12: a list fragment read again while its box is unchanged comes from the worker's
fragment cache (one statement: the session check, which brings the box's version); every change
of the box, whichever path makes it, shows at the next read."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from tests.conftest import HTMX, login
from tests.querycount import statements_of
from tests.services.test_voicemail import anna, deposit
from webapp.models import BoxVersion, VoicemailMessage

ANNA = "anna.schmidt@muster.example"


def _url(db_session, service: str, query: str = "") -> str:
    return f"/profiles/{anna(db_session).id}/{service}{query}"


@pytest.mark.parametrize("service", ["voicemail", "fax"])
def test_an_unchanged_box_is_read_again_from_the_cache(client, db_session, engine, service):
    url = _url(db_session, service)
    login(client, ANNA)
    first = client.get(url, headers=HTMX)
    again = statements_of(client, engine, url, HTMX)
    assert len(again) == 1, "\n".join(again)  # the session check with the profile and its box's version
    assert "box_versions" in again[0]
    assert client.get(url, headers=HTMX).data == first.data
    other_page = statements_of(client, engine, _url(db_session, service, "?show=new"), HTMX)
    assert len(other_page) == 2, "a different query is a page of its own"


def test_a_deposit_shows_at_the_next_read(client, db_session):
    url = _url(db_session, "voicemail")
    login(client, ANNA)
    before = client.get(url, headers=HTMX).text
    assert "555000111" not in before
    message = deposit(db_session, caller="+4989555000111")
    after = client.get(url, headers=HTMX).text
    assert f'id="vm-msg-{message.id}"' in after and "555000111" in after


def test_a_change_outside_the_portal_s_code_shows_at_the_next_read(client, db_session):
    """A job or an operator's SQL counts the box up as well: the database does it, not the services."""
    url = _url(db_session, "voicemail")
    login(client, ANNA)
    newest = db_session.scalar(select(VoicemailMessage).where(VoicemailMessage.profile_id == anna(db_session).id,
                                                              VoicemailMessage.deleted_at.is_(None))
                               .order_by(VoicemailMessage.received_at.desc()))
    assert f'id="vm-msg-{newest.id}"' in client.get(url, headers=HTMX).text
    db_session.execute(text("UPDATE voicemail_messages SET deleted_at = created_at WHERE id = :id"), {"id": newest.id})
    db_session.commit()
    assert f'id="vm-msg-{newest.id}"' not in client.get(url, headers=HTMX).text


def test_marking_through_the_page_shows_the_new_state(client, db_session):
    url = _url(db_session, "voicemail")
    login(client, ANNA)
    page = client.get(url, headers=HTMX).text
    message = db_session.scalar(select(VoicemailMessage).where(VoicemailMessage.profile_id == anna(db_session).id,
                                                               VoicemailMessage.heard_at.is_(None),
                                                               VoicemailMessage.deleted_at.is_(None)))
    assert f'id="vm-msg-{message.id}" class="vm-new"' in page
    csrf = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    done = client.post(f"{url}/messages/{message.id}/heard", data={"csrf_token": csrf}, headers=HTMX)
    assert done.status_code == 200
    assert f'id="vm-msg-{message.id}" class="vm-heard"' in client.get(url, headers=HTMX).text


def test_switching_the_voicemail_off_shows_its_notice_at_once(client, db_session):
    from webapp.services import voicemail as vm

    url = _url(db_session, "voicemail")
    login(client, ANNA)
    notice = "Der Anrufbeantworter ist ausgeschaltet"
    assert notice not in client.get(url, headers=HTMX).text
    settings = vm.settings_of(db_session, anna(db_session), for_update=True)
    settings.enabled = False
    db_session.commit()
    assert notice in client.get(url, headers=HTMX).text


def test_each_user_and_language_has_its_own_fragment(app, client, db_session):
    """The owner's fragment carries her navigation badge, an administrator's does not; her
    language is kept apart."""
    url = _url(db_session, "voicemail")
    login(client, ANNA)
    own = client.get(url, headers=HTMX).text
    admin = login(app.test_client(), "admin@muster.example")
    theirs = admin.get(url, headers=HTMX)
    assert theirs.status_code == 200 and 'id="vm-nav-badge"' not in theirs.text
    assert 'id="vm-nav-badge"' in own and "Nachrichten" in own
    user = anna(db_session).user
    user.locale = "en"
    db_session.commit()
    english = client.get(url, headers=HTMX).text
    assert ">Messages<" in english and "Nachrichten" not in english
    user.locale = "de"
    db_session.commit()
    assert client.get(url, headers=HTMX).text == own


def test_a_cached_fragment_is_never_answered_without_access(app, client, db_session):
    url = _url(db_session, "voicemail")
    login(client, ANNA)
    assert client.get(url, headers=HTMX).status_code == 200
    other = login(app.test_client(), "max.mueller@muster.example", "demo-user-2026")
    refused = other.get(url, headers=HTMX)
    assert refused.status_code == 404 and "Anna" not in refused.text
    client.post("/logout", data={"csrf_token": _csrf(client)})
    assert client.get(url, headers=HTMX).status_code == 401


def test_undo_and_whole_pages_are_not_kept(client, db_session, engine):
    url = _url(db_session, "voicemail")
    login(client, ANNA)
    for headers, query in (({}, ""), (HTMX, "?undo=1")):
        client.get(url + query, headers=headers)
        again = statements_of(client, engine, url + query, headers)
        assert len(again) >= 2, "\n".join(again)


def test_the_trigger_counts_every_change_and_lets_a_profile_go(db_session):
    from webapp.models import User
    from webapp.services import profiles

    profile = anna(db_session)
    profile_id = profile.id

    def version(box: str = "voicemail"):
        return db_session.execute(text("SELECT version FROM box_versions WHERE profile_id = :p AND box = :b"),
                                  {"p": profile_id, "b": box}).scalar()

    start, fax = version(), version("fax")
    assert start is not None and fax is not None  # the demo's messages and faxes counted them
    message = deposit(db_session)
    assert version() == start + 1
    db_session.execute(text("UPDATE voicemail_messages SET heard_at = received_at WHERE id = :id"), {"id": message.id})
    assert version() == start + 2
    db_session.execute(text("DELETE FROM voicemail_messages WHERE id = :id"), {"id": message.id})
    assert version() == start + 3 and version("fax") == fax  # the boxes count apart
    admin = db_session.scalar(select(User).where(User.email == "admin@muster.example"))
    profiles.delete_profile(db_session, admin, profile)  # its messages and faxes go with it
    db_session.commit()
    assert db_session.scalar(select(BoxVersion).where(BoxVersion.profile_id == profile_id)) is None


def _csrf(client) -> str:
    page = client.get("/account").text
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def test_one_statement_over_many_rows_counts_the_box_once_on_postgresql(db_session):
    """PostgreSQL counts per statement (a bulk load or a profile's deletion over 100,000 rows must
    not update the counter row 100,000 times); SQLite per row."""
    profile_id = anna(db_session).id

    def version():
        return db_session.execute(text("SELECT version FROM box_versions WHERE profile_id = :p AND box = 'voicemail'"),
                                  {"p": profile_id}).scalar()

    before = version()
    changed = db_session.execute(text("UPDATE voicemail_messages SET size_bytes = size_bytes WHERE profile_id = :p"),
                                 {"p": profile_id}).rowcount
    assert changed > 1
    postgresql = db_session.get_bind().dialect.name == "postgresql"
    assert version() == before + (1 if postgresql else changed)
