"""Konferenz pages (full page and htmx partial, 422 with the reason, 404 outside the caller's scope) and the platform's
signed events on /api/v1."""

from __future__ import annotations

from datetime import timedelta

import icalendar
import pytest
from sqlalchemy import func, select

from tests.conftest import HTMX, login
from tests.routes.test_api_voicemail import signed_post
from tests.services.test_conference import ANNA_CONF, future, max_with_room, profile
from webapp.models import ConferenceEvent, ConferenceMeeting, PinRole, utcnow
from webapp.services.conference import live
from webapp.services.conference import room as rooms


@pytest.fixture
def anna(client, db_session):
    login(client, "anna.schmidt@muster.example")
    return profile(db_session)


def url(p, tail: str = "") -> str:
    return f"/profiles/{p.id}/conference{tail}"


def test_room_page_shows_dial_in_and_pins_full_and_partial(client, db_session, anna):
    page = client.get(url(anna))
    assert page.status_code == 200
    pins = rooms.clear_pins(db_session, anna)
    assert "030 1234567-12" in page.text and "+49 30 123456712" in page.text
    assert pins[PinRole.MODERATOR] in page.text and pins[PinRole.PARTICIPANT] in page.text
    assert "Fernet" in page.text  # how the PINs are protected
    partial = client.get(url(anna, "/live"), headers=HTMX)
    assert partial.status_code == 286  # empty room: polling stops
    assert partial.text.lstrip().startswith('<section id="conf-live"') and "hx-trigger" not in partial.text
    assert "HX-Request" in partial.headers["Vary"]


def test_another_users_room_is_refused_and_the_admin_may_open_it(client, db_session):
    login(client, "anna.schmidt@muster.example")
    max_ = max_with_room(db_session)
    for tail in ("", "/meetings", "/settings", "/simulator"):  # outside her scope: as if it did not exist
        assert client.get(url(max_, tail)).status_code == 404
    assert client.post(url(max_, "/pins/moderator/regenerate"), headers=HTMX).status_code == 404
    client.post("/logout")
    login(client, "admin@muster.example")
    anna = profile(db_session)
    assert client.get(url(anna)).status_code == 200
    assert client.get(url(anna, "/meetings")).status_code == 200


def test_regenerate_by_one_click_and_typed_pin_errors_next_to_the_field(client, db_session, anna):
    old = rooms.clear_pins(db_session, anna)[PinRole.PARTICIPANT]
    response = client.post(url(anna, "/pins/participant/regenerate"), headers=HTMX)
    assert response.status_code == 200 and "HX-Trigger" in response.headers
    new = rooms.clear_pins(db_session, anna)[PinRole.PARTICIPANT]
    assert new != old and new in response.text and old not in response.text
    refused = client.post(url(anna, "/pins/moderator"), headers=HTMX,
                          data={"moderator-pin": "123456", "moderator-pin_confirm": "123456"})
    assert refused.status_code == 422
    assert 'id="moderator-pin-errors"' in refused.text and "Ziffernfolge" in refused.text
    same = client.post(url(anna, "/pins/moderator"), headers=HTMX,
                       data={"moderator-pin": new, "moderator-pin_confirm": new})
    assert same.status_code == 422 and "müssen verschieden sein" in same.text
    ok = client.post(url(anna, "/pins/moderator"), data={"moderator-pin": "583920", "moderator-pin_confirm": "583920"})
    assert ok.status_code == 303
    assert rooms.clear_pins(db_session, anna)[PinRole.MODERATOR] == "583920"
    assert client.post(url(anna, "/pins/nobody/regenerate")).status_code == 404


def test_settings_saved_and_refused(client, db_session, anna):
    page = client.get(url(anna, "/settings"))
    assert page.status_code == 200 and "Maximale Teilnehmerzahl" in page.text
    refused = client.post(url(anna, "/settings"), headers=HTMX, data={"max_participants": "51", "language": "de"})
    assert refused.status_code == 422 and 'id="max_participants-errors"' in refused.text
    saved = client.post(url(anna, "/settings"), headers=HTMX,
                        data={"max_participants": "20", "language": "en", "mute_on_entry": "y"})
    assert saved.status_code == 200 and saved.text.lstrip().startswith('<section id="conf-settings"')
    room = rooms.room_of(db_session, anna)
    db_session.refresh(room)
    assert (room.max_participants, room.language, room.mute_on_entry, room.wait_for_moderator) == (20, "en", True, False)


def meeting_form(**overrides) -> dict:
    data = {"title": "Planung", "start": future(days=20).strftime("%Y-%m-%dT%H:%M"), "duration_minutes": "45",
            "agenda": "", "invitees": "a@example.com\nb@example.com"}
    data.update(overrides)
    return data


def test_meetings_schedule_refuse_change_cancel_and_ics(client, db_session, anna):
    refused = client.post(url(anna, "/meetings"), headers=HTMX,
                          data=meeting_form(start=future(days=-2).strftime("%Y-%m-%dT%H:%M"), invitees="kaputt"))
    assert refused.status_code == 422 and "liegt in der Vergangenheit" in refused.text
    assert 'value="Planung"' in refused.text  # what was typed is kept
    bad = client.post(url(anna, "/meetings"), headers=HTMX, data=meeting_form(invitees="a@example.com, kaputt"))
    assert bad.status_code == 422 and 'id="invitees-errors"' in bad.text and "kaputt" in bad.text
    created = client.post(url(anna, "/meetings"), headers=HTMX, data=meeting_form())
    assert created.status_code == 200 and "2 Einladungen verschickt" in created.headers["HX-Trigger"].encode().decode("unicode_escape")
    meeting = db_session.scalar(select(ConferenceMeeting).where(ConferenceMeeting.title == "Planung"))
    overlap = client.post(url(anna, "/meetings"), headers=HTMX, data=meeting_form(title="Doppelt"))
    assert overlap.status_code == 422 and "bereits belegt" in overlap.text
    edit = client.get(url(anna, f"/meetings/{meeting.id}/edit"))
    assert edit.status_code == 200 and "a@example.com\nb@example.com" in edit.text
    changed = client.post(url(anna, f"/meetings/{meeting.id}"), data=meeting_form(duration_minutes="90"))
    assert changed.status_code == 303
    ics = client.get(url(anna, f"/meetings/{meeting.id}/invitation.ics"))
    assert ics.status_code == 200 and ics.mimetype == "text/calendar" and "attachment" in ics.headers["Content-Disposition"]
    event = icalendar.Calendar.from_ical(ics.data).walk("VEVENT")[0]
    assert event["SEQUENCE"] == 1 and event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=90)
    cancelled = client.post(url(anna, f"/meetings/{meeting.id}/cancel"), headers=HTMX)
    assert cancelled.status_code == 200 and "abgesagt" in cancelled.text
    again = client.post(url(anna, f"/meetings/{meeting.id}/cancel"), headers=HTMX)
    assert again.status_code == 422
    max_ = max_with_room(db_session)
    assert client.get(url(max_, f"/meetings/{meeting.id}/invitation.ics")).status_code == 404
    assert client.get(url(anna, "/meetings/999999/invitation.ics")).status_code == 404


def test_live_list_polls_while_people_are_in_and_moderator_actions(client, db_session, anna):
    jan = live.simulate(db_session, anna, "join", name="Jan Weber")
    polled = client.get(url(anna, "/live"), headers=HTMX)
    assert polled.status_code == 200 and 'hx-trigger="every 2s"' in polled.text and "Jan Weber" in polled.text
    muted = client.post(url(anna, f"/live/{jan.id}/mute"), headers=HTMX)
    assert muted.status_code == 200 and "stummgeschaltet" in muted.text
    locked = client.post(url(anna, "/live/all/lock"), headers=HTMX)
    assert locked.status_code == 200 and "Gesperrt" in locked.text
    removed = client.post(url(anna, f"/live/{jan.id}/remove"), headers=HTMX)
    assert removed.status_code == 200 and "Jan Weber" not in removed.text.split("</p>", 1)[1].split("Niemand")[0]
    gone = client.post(url(anna, f"/live/{jan.id}/remove"), headers=HTMX)
    assert gone.status_code == 404 and "nicht mehr im Raum" in gone.text
    assert client.post(url(anna, f"/live/{jan.id}/dance"), headers=HTMX).status_code == 404


def test_simulator_exists_only_with_the_dev_mailbox(client, app, db_session, anna):
    assert client.post(url(anna, "/simulator/join"), data={"name": "Lena"}, follow_redirects=True).status_code == 200
    assert [p.name for p in live.present(db_session, anna)] == ["Lena"]
    app.config["DEV_MAILBOX"] = False
    assert client.get(url(anna, "/simulator")).status_code == 404
    assert client.post(url(anna, "/simulator/join")).status_code == 404
    assert "Simulator" not in client.get(url(anna)).text


def test_simulator_cli(runner, db_session):
    result = runner.invoke(args=["conference-simulate", ANNA_CONF, "join", "--name", "Paul"])
    assert result.exit_code == 0, result.output
    assert "Paul" in result.output and "1 in the room" in result.output
    result = runner.invoke(args=["conference-simulate", ANNA_CONF, "talk", "--name", "Paul"])
    assert "talking" in result.output
    result = runner.invoke(args=["conference-simulate", ANNA_CONF, "leave"])
    assert "0 in the room" in result.output
    assert runner.invoke(args=["conference-simulate", "+4930999", "join"]).exit_code != 0


# --- the signed API --------------------------------------------------------------------------


def post_event(client, secret: str | None = None, **values):
    body = {"event_id": "ev-1", "kind": "joined", "number": ANNA_CONF, "call_id": "leg-1",
            "occurred_at": utcnow().isoformat(), "caller": "+4940123456789", "name": "Jan"}
    body.update(values)
    return signed_post(client, "/api/v1/conference/events", json_body=body,
                       **({"secret": secret} if secret else {}))


def test_event_with_a_wrong_signature_is_refused(client, db_session):
    response = post_event(client, secret="wrong", event_id="ev-bad")
    assert response.status_code == 401
    assert db_session.get(ConferenceEvent, "ev-bad") is None


def test_events_apply_once_and_a_replay_changes_nothing(client, db_session):
    anna = profile(db_session)
    first = post_event(client)
    assert first.status_code == 200 and first.json["applied"] is True
    assert post_event(client, event_id="ev-2", kind="muted", value=True).json["participant"]["muted"] is True
    assert post_event(client, event_id="ev-3", kind="muted", value=False).json["participant"]["muted"] is False
    replay = post_event(client, event_id="ev-2", kind="muted", value=True)
    assert replay.status_code == 200 and replay.json["applied"] is False
    assert replay.json["participant"]["muted"] is False
    (jan,) = live.present(db_session, anna)
    assert jan.muted is False
    count = db_session.scalar(select(func.count()).select_from(ConferenceEvent).where(ConferenceEvent.profile_id == anna.id))
    assert count == 3


@pytest.mark.parametrize(("values", "field"), [({"kind": "sang"}, "kind"), ({"event_id": ""}, "event_id"),
                                                ({"occurred_at": "gestern"}, "occurred_at"),
                                                ({"kind": "talking"}, "value")])
def test_bad_events_are_422_with_the_field(client, values, field):
    response = post_event(client, **{"event_id": "ev-x", **values})
    assert response.status_code == 422 and response.json["field"] == field


def test_event_for_an_unknown_number_is_404(client):
    assert post_event(client, number="+4930999999").status_code == 404


def test_platform_reads_the_room_with_its_pins(client, db_session):
    anna = profile(db_session)
    pins = rooms.clear_pins(db_session, anna)
    ts_client = signed_post  # GET with a signature over an empty body
    import time

    from webapp.services import platform
    ts = str(int(time.time()))
    response = client.get(f"/api/v1/conference/rooms/{ANNA_CONF}",
                          headers={platform.TIMESTAMP_HEADER: ts,
                                   platform.SIGNATURE_HEADER: platform.sign("test-platform-secret", ts, b"")})
    assert response.status_code == 200
    assert response.json["moderator_pin"] == pins[PinRole.MODERATOR]
    assert response.json["participant_pin"] == pins[PinRole.PARTICIPANT]
    assert client.get(f"/api/v1/conference/rooms/{ANNA_CONF}").status_code == 401
    assert ts_client


@pytest.mark.parametrize(("path", "data"), [
    ("/meetings", {"title": "a\x00b", "start": "2099-01-01T10:00", "duration_minutes": "30"}),
    ("/meetings", {"title": "x", "start": "9999-12-31T23:59", "duration_minutes": "480"}),
    ("/meetings", {"title": "x", "start": "0001-01-01T00:00", "duration_minutes": "30"}),
    ("/meetings", {"title": "x", "start": "2026-13-45T99:99", "duration_minutes": "abc"}),
    ("/meetings", {"title": "x" * 5000, "start": "", "duration_minutes": "99999999999999999999", "invitees": "\x00@x"}),
    ("/settings", {"max_participants": "\x00", "language": "xx" * 500}),
    ("/pins/moderator", {"moderator-pin": "１２３４５６", "moderator-pin_confirm": "１２３４５６"}),
    ("/pins/participant", {"participant-pin": "\x00" * 8, "participant-pin_confirm": "\x00" * 8}),
    ("/simulator/join", {"name": "\x00" * 200}),
    ("/simulator/talk", {"participant": "99999999999999999999"}),
    ("/live/all/unlock", {}),
], ids=lambda v: v if isinstance(v, str) else None)
def test_bad_input_is_never_a_500(client, anna, path, data):
    response = client.post(url(anna, path), data=data, headers=HTMX)
    assert response.status_code < 500, response.text[:500]
    assert client.get(url(anna, "/meetings?page=%ff")).status_code == 200


@pytest.mark.parametrize("body", [[1, 2], {"event_id": "e", "kind": ["joined"], "number": {}, "call_id": None},
                                  {"event_id": "e9", "kind": "joined", "number": ANNA_CONF, "call_id": "c",
                                   "occurred_at": "9999-12-31T23:59:59-14:00"},
                                  {"event_id": "e\x00", "kind": "left", "number": ANNA_CONF, "call_id": "c"}])
def test_bad_event_bodies_are_never_a_500(client, body):
    response = signed_post(client, "/api/v1/conference/events", json_body=body)
    assert response.status_code in (404, 422), response.text[:300]


def test_a_profile_without_a_konferenz_number_says_so_on_every_tab(client, db_session):
    from webapp.models import Service, User
    from webapp.services import numbers

    anna = profile(db_session)
    admin = db_session.scalar(select(User).where(User.email == "admin@muster.example"))
    numbers.release_number(db_session, admin, anna, Service.CONFERENCE)
    login(client, "anna.schmidt@muster.example")
    for tail in ("", "/meetings", "/settings", "/recordings"):
        page = client.get(url(anna, tail))
        assert page.status_code == 200, tail
        assert "Es ist noch keine Konferenz-Rufnummer zugewiesen" in page.text
    refused = client.post(url(anna, "/meetings"), data=meeting_form(), headers=HTMX)
    assert refused.status_code == 422 and "Konferenz-Rufnummer" in refused.text


def test_signed_out_polling_is_sent_to_the_login(client, db_session):
    anna = profile(db_session)
    response = client.get(url(anna, "/live"), headers=HTMX)
    assert response.status_code == 401 and response.headers["HX-Redirect"].startswith("/login")


def test_a_poll_with_nothing_new_is_204_and_a_change_answers_the_list(client, db_session, anna):
    import html
    import re

    jan = live.simulate(db_session, anna, "join", name="Jan Weber")
    first = client.get(url(anna, "/live"), headers=HTMX)
    poll_url = html.unescape(re.search(r'hx-get="([^"]+v=[^"]+)"', first.text).group(1))
    unchanged = client.get(poll_url, headers=HTMX)
    assert unchanged.status_code == 204 and unchanged.data == b""
    live.simulate(db_session, anna, "talk", jan.id)
    changed = client.get(poll_url, headers=HTMX)
    assert changed.status_code == 200 and "spricht" in changed.text
    live.simulate(db_session, anna, "leave")
    assert client.get(poll_url, headers=HTMX).status_code == 286
