"""The Konferenz pages read a constant number of queries however many rows there are."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import insert

from tests.conftest import HTMX, login
from tests.querycount import statements_of
from tests.services.test_conference import profile
from webapp.models import ConferenceMeeting, ConferenceParticipant, ConferenceRecording, utcnow


def add_rows(db_session, p, count: int, offset: int) -> None:
    now = utcnow()
    db_session.execute(insert(ConferenceParticipant), [
        {"profile_id": p.id, "call_id": f"perf-{offset + i}", "caller": f"+49151{offset + i:08d}", "name": None,
         "is_moderator": False, "joined_at": now, "talking": False, "muted": bool(i % 2), "updated_at": now}
        for i in range(count)])
    db_session.execute(insert(ConferenceMeeting), [
        {"profile_id": p.id, "uid": str(uuid.uuid4()), "title": f"M{offset + i}", "timezone": "Europe/Berlin",
         "starts_at": now + timedelta(days=30 + offset + i) * (1 if i % 2 else -1), "duration_minutes": 30,
         "agenda": "", "invitees": ["a@example.com"], "sequence": 0, "created_at": now, "updated_at": now}
        for i in range(count)])
    db_session.execute(insert(ConferenceRecording), [
        {"profile_id": p.id, "platform_recording_id": f"perf-{offset + i}", "started_at": now - timedelta(hours=i),
         "duration_ms": 1000, "size_bytes": 1, "audio_key": f"perf/{i}.wav", "created_at": now}
        for i in range(count)])
    db_session.commit()


def statements_for(client, engine, url: str) -> int:
    return len(statements_of(client, engine, url, HTMX))


def test_pages_do_not_query_more_with_more_rows(client, db_session, engine):
    anna = profile(db_session)
    login(client, "anna.schmidt@muster.example")
    urls = [f"/profiles/{anna.id}/conference{tail}" for tail in ("", "/live", "/meetings", "/recordings")]
    add_rows(db_session, anna, 2, 0)
    for u in urls:
        statements_for(client, engine, u)  # warm up (room creation, template compile)
    few = [statements_for(client, engine, u) for u in urls]
    add_rows(db_session, anna, 40, 100)
    assert [statements_for(client, engine, u) for u in urls] == few


def test_long_lists_are_paged(client, db_session):
    anna = profile(db_session)
    add_rows(db_session, anna, 50, 0)
    login(client, "anna.schmidt@muster.example")
    meetings = client.get(f"/profiles/{anna.id}/conference/meetings")
    assert "Seite 1 von 3" in meetings.text and "page=2" in meetings.text
    last = client.get(f"/profiles/{anna.id}/conference/meetings?page=99")
    assert "Seite 3 von 3" in last.text
    recs = client.get(f"/profiles/{anna.id}/conference/recordings?page=3")
    assert "Seite 3 von 3" in recs.text and recs.text.count('data-testid="recording"') == 11
