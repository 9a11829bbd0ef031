"""Konferenz services: PINs (rules, secrecy, uniqueness, regeneration), settings, meetings and
their invitations, live participants from platform events."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.models import (
    ConferencePin,
    ConferenceRoom,
    MailMessage,
    PhoneNumber,
    PinRole,
    PlatformEvent,
    Service,
    UmsProfile,
    User,
    utcnow,
)
from webapp.services import numbers
from webapp.services.conference import live, meetings
from webapp.services.conference import room as rooms
from webapp.services.errors import NotFound, ValidationFailed

ANNA_CONF = "+4930123456712"
MAX_CONF = "+4930123456730"
BERLIN = ZoneInfo("Europe/Berlin")


def profile(session, email: str = "anna.schmidt@muster.example") -> UmsProfile:
    return session.scalar(select(UmsProfile).where(UmsProfile.email_normalized == email))


def owner(session, p: UmsProfile) -> User:
    return session.get(User, p.user_id)


def max_with_room(session) -> UmsProfile:
    """Max Müller gets a Konferenz number (assigned by the admin) and so a room."""
    max_ = profile(session, "max.mueller@muster.example")
    admin = session.scalar(select(User).where(User.email == "admin@muster.example"))
    number = session.scalar(select(PhoneNumber).where(PhoneNumber.e164 == MAX_CONF))
    numbers.assign_number(session, admin, max_, Service.CONFERENCE, number.id)
    rooms.ensure_room(session, admin, max_)
    return max_


def events(session, kind: str) -> list[PlatformEvent]:
    return list(session.scalars(select(PlatformEvent).where(PlatformEvent.kind == kind).order_by(PlatformEvent.id)))


# --- PINs ------------------------------------------------------------------------------------


def test_room_has_two_different_generated_pins_that_follow_the_rules(db_session):
    anna = profile(db_session)
    rooms.ensure_room(db_session, None, anna)
    pins = rooms.clear_pins(db_session, anna)
    moderator, participant = pins[PinRole.MODERATOR], pins[PinRole.PARTICIPANT]
    assert moderator != participant
    for pin in (moderator, participant):
        assert len(pin) == rooms.GENERATED_PIN_LENGTH and pin.isdigit()
        assert rooms.pin_problem(pin, ANNA_CONF) is None


def test_pins_are_encrypted_at_rest_and_unreadable_with_another_key(db_session, app):
    anna = profile(db_session)
    pins = rooms.clear_pins(db_session, anna)
    row = rooms.pins_of(db_session, anna)[PinRole.MODERATOR]
    assert pins[PinRole.MODERATOR] not in row.secret and pins[PinRole.MODERATOR] not in row.digest
    app.config["SECRET_KEY"] = "another-key"
    try:
        assert rooms.decrypt(row.secret) is None
    finally:
        app.config["SECRET_KEY"] = "test-secret"
    assert rooms.decrypt(row.secret) == pins[PinRole.MODERATOR]


@pytest.mark.parametrize(("pin", "reason"), [
    ("12345", "6 bis 10 Ziffern"), ("12a456", "6 bis 10 Ziffern"), ("777777", "einzigen, wiederholten Ziffer"),
    ("234567", "Ziffernfolge"), ("121212", "kurzes Muster"), ("1234567", "Ziffernfolge"),
    ("3012345671", "Teil Ihrer Rufnummer"),
])
def test_weak_typed_pins_are_refused_with_the_voicemail_rules(db_session, pin, reason):
    from flask_babel import force_locale

    anna = profile(db_session)
    before = rooms.clear_pins(db_session, anna)
    with pytest.raises(ValidationFailed) as refused:
        rooms.set_pin(db_session, owner(db_session, anna), anna, PinRole.PARTICIPANT, pin)
    assert refused.value.field == "pin"
    with force_locale("de"):
        assert reason in str(refused.value.message)
    assert rooms.clear_pins(db_session, anna) == before


def test_typed_pin_must_differ_from_the_other_pin(db_session):
    anna = profile(db_session)
    moderator = rooms.clear_pins(db_session, anna)[PinRole.MODERATOR]
    with pytest.raises(ValidationFailed, match="müssen verschieden sein"):
        rooms.set_pin(db_session, owner(db_session, anna), anna, PinRole.PARTICIPANT, moderator)


def test_a_pin_of_another_room_is_refused_and_the_refusals_are_limited(db_session):
    anna = profile(db_session)
    max_ = max_with_room(db_session)
    taken = rooms.clear_pins(db_session, max_)[PinRole.PARTICIPANT]
    for _ in range(rooms.TAKEN_REFUSALS_PER_HOUR):
        with pytest.raises(ValidationFailed, match="bereits in einem anderen Konferenzraum"):
            rooms.set_pin(db_session, owner(db_session, anna), anna, PinRole.MODERATOR, taken)
    with pytest.raises(ValidationFailed, match="Zu viele"):
        rooms.set_pin(db_session, owner(db_session, anna), anna, PinRole.MODERATOR, "583920")
    assert rooms.clear_pins(db_session, max_)[PinRole.PARTICIPANT] == taken


def test_the_database_refuses_the_same_pin_in_two_rooms(db_session):
    anna = profile(db_session)
    max_ = max_with_room(db_session)
    row = rooms.pins_of(db_session, max_)[PinRole.MODERATOR]
    row.digest = rooms.pins_of(db_session, anna)[PinRole.PARTICIPANT].digest
    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.flush()


def test_generated_pins_avoid_every_pin_in_use(db_session, monkeypatch):
    """With the secure source forced to repeat a taken PIN first, the generator moves on."""
    anna = profile(db_session)
    max_ = max_with_room(db_session)
    taken = rooms.clear_pins(db_session, max_)[PinRole.MODERATOR]
    fresh = "58392047"
    digits = iter([*map(int, taken), *map(int, fresh)])
    monkeypatch.setattr(rooms.secrets, "randbelow", lambda _n: next(digits))
    assert rooms.regenerate_pin(db_session, owner(db_session, anna), anna, PinRole.PARTICIPANT) == fresh


def test_regenerating_replaces_the_pin_and_tells_the_platform_without_the_pin(db_session):
    anna = profile(db_session)
    old = rooms.clear_pins(db_session, anna)[PinRole.MODERATOR]
    new = rooms.regenerate_pin(db_session, owner(db_session, anna), anna, PinRole.MODERATOR)
    assert new != old and rooms.clear_pins(db_session, anna)[PinRole.MODERATOR] == new
    event = events(db_session, "conference.room_changed")[-1]
    assert event.payload["number"] == ANNA_CONF and event.payload["changed"] == "moderator_pin"
    assert new not in str(event.payload) and old not in str(event.payload)
    assert rooms.room_for_platform(db_session, ANNA_CONF)["moderator_pin"] == new


def test_a_good_typed_pin_is_kept(db_session):
    anna = profile(db_session)
    rooms.set_pin(db_session, owner(db_session, anna), anna, PinRole.PARTICIPANT, "583920")
    assert rooms.clear_pins(db_session, anna)[PinRole.PARTICIPANT] == "583920"


def test_no_room_without_a_konferenz_number(db_session):
    bea = profile(db_session, "bea.berger@beispiel.example")
    if rooms.number_of(db_session, bea) is not None:
        pytest.skip("Bea has a Konferenz number in this demo")
    assert rooms.ensure_room(db_session, None, bea) is None
    with pytest.raises(NotFound):
        rooms.require_room(db_session, None, bea)


# --- settings --------------------------------------------------------------------------------


def settings(**overrides) -> rooms.SettingsInput:
    values = dict(max_participants=12, wait_for_moderator=True, announce_join_leave=True, entry_exit_tones=False,
                  mute_on_entry=True, end_when_moderator_leaves=True, allow_recording=True, language="en")
    values.update(overrides)
    return rooms.SettingsInput(**values)


def test_settings_are_saved_and_sent_to_the_platform(db_session):
    anna = profile(db_session)
    rooms.update_settings(db_session, owner(db_session, anna), anna, settings())
    room = db_session.get(ConferenceRoom, anna.id)
    assert (room.max_participants, room.mute_on_entry, room.language) == (12, True, "en")
    sent = events(db_session, "conference.room_changed")[-1].payload
    assert sent["changed"] == "settings" and sent["settings"]["max_participants"] == 12
    assert sent["settings"]["allow_recording"] is True


@pytest.mark.parametrize(("change", "field"), [({"max_participants": 1}, "max_participants"),
                                                ({"max_participants": 51}, "max_participants"),
                                                ({"language": "fr"}, "language")])
def test_settings_out_of_range_are_refused(db_session, change, field):
    anna = profile(db_session)
    with pytest.raises(ValidationFailed) as refused:
        rooms.update_settings(db_session, owner(db_session, anna), anna, settings(**change))
    assert refused.value.field == field


# --- meetings --------------------------------------------------------------------------------


def future(days: int = 10, hour: int = 14, minute: int = 0) -> datetime:
    day = (utcnow().astimezone(BERLIN) + timedelta(days=days)).date()
    return datetime(day.year, day.month, day.day, hour, minute)


def meeting_input(**overrides) -> meetings.MeetingInput:
    values = dict(title="Quartalsplanung", start=future(), duration_minutes=60, agenda="1. Zahlen\n2. Ziele",
                  invitees="jan.becker@example.com, lena.fischer@example.com")
    values.update(overrides)
    return meetings.MeetingInput(**values)


def mails(session, after_id: int = 0) -> list[MailMessage]:
    return list(session.scalars(select(MailMessage).where(MailMessage.id > after_id).order_by(MailMessage.id)))


def last_mail_id(session) -> int:
    return session.scalar(select(MailMessage.id).order_by(MailMessage.id.desc()).limit(1)) or 0


def parsed(message: MailMessage) -> tuple[icalendar.Calendar, icalendar.Event]:
    cal = icalendar.Calendar.from_ical(message.attachment)
    return cal, cal.walk("VEVENT")[0]


def test_scheduling_invites_everyone_with_an_ics_holding_dial_in_and_participant_pin(db_session):
    anna = profile(db_session)
    pins = rooms.clear_pins(db_session, anna)
    start = mails_before = last_mail_id(db_session)
    meeting = meetings.schedule(db_session, owner(db_session, anna), anna, meeting_input())
    sent = mails(db_session, mails_before)
    assert [m.recipient for m in sent] == ["jan.becker@example.com", "lena.fischer@example.com"]
    for message in sent:
        assert message.attachment_type == "text/calendar; method=REQUEST"
        cal, event = parsed(message)
        assert str(cal["METHOD"]) == "REQUEST" and str(event["UID"]) == meeting.uid and event["SEQUENCE"] == 0
        assert event.decoded("DTSTART") == future().replace(tzinfo=BERLIN)
        assert (event.decoded("DTEND") - event.decoded("DTSTART")) == timedelta(minutes=60)
        text = str(event["DESCRIPTION"]) + message.body_text
        assert "030 1234567-12" in text and pins[PinRole.PARTICIPANT] in text
        assert pins[PinRole.MODERATOR] not in text + message.attachment.decode()
    assert start is not None


def test_start_in_the_past_overlap_and_bad_addresses_are_refused_with_clear_messages(db_session):
    anna = profile(db_session)
    user = owner(db_session, anna)
    with pytest.raises(ValidationFailed, match="liegt in der Vergangenheit") as past:
        meetings.schedule(db_session, user, anna, meeting_input(start=future(days=-1)))
    assert past.value.field == "start"
    meetings.schedule(db_session, user, anna, meeting_input())
    with pytest.raises(ValidationFailed, match="bereits belegt: „Quartalsplanung“"):
        meetings.schedule(db_session, user, anna, meeting_input(title="Zweites", start=future(minute=30)))
    meetings.schedule(db_session, user, anna, meeting_input(title="Danach", start=future(hour=15)))  # touches, no overlap
    with pytest.raises(ValidationFailed, match="Keine E-Mail-Adresse: kein-at, x@") as bad:
        meetings.schedule(db_session, user, anna, meeting_input(start=future(days=11), invitees="a@example.com kein-at x@"))
    assert bad.value.field == "invitees"
    with pytest.raises(ValidationFailed, match="Höchstens 50"):
        meetings.schedule(db_session, user, anna, meeting_input(
            start=future(days=12), invitees=" ".join(f"p{i}@example.com" for i in range(51))))
    with pytest.raises(ValidationFailed, match="zwischen 5 Minuten und 8 Stunden"):
        meetings.schedule(db_session, user, anna, meeting_input(start=future(days=13), duration_minutes=481))


def test_a_time_that_does_not_exist_in_berlin_is_refused(db_session):
    anna = profile(db_session)
    year = utcnow().year + 1
    gap = datetime(year, 3, 31, 2, 30)  # last Sunday of March, 02:00–03:00 does not exist
    while gap.weekday() != 6:
        gap -= timedelta(days=1)
    with pytest.raises(ValidationFailed, match="gibt es in Berlin nicht"):
        meetings.schedule(db_session, owner(db_session, anna), anna, meeting_input(start=gap))


def test_a_change_sends_an_update_and_a_cancel_to_removed_invitees_then_cancel(db_session):
    anna = profile(db_session)
    user = owner(db_session, anna)
    meeting = meetings.schedule(db_session, user, anna, meeting_input())
    before = last_mail_id(db_session)
    meetings.change(db_session, user, anna, meeting, meeting_input(start=future(hour=16),
                                                                   invitees="jan.becker@example.com"))
    update, removal = mails(db_session, before)
    cal, event = parsed(update)
    assert update.recipient == "jan.becker@example.com" and str(cal["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == meeting.uid and event["SEQUENCE"] == 1
    assert event.decoded("DTSTART") == future(hour=16).replace(tzinfo=BERLIN)
    cal, event = parsed(removal)
    assert removal.recipient == "lena.fischer@example.com" and str(cal["METHOD"]) == "CANCEL"
    before = last_mail_id(db_session)
    meetings.cancel(db_session, user, anna, meeting)
    (cancel,) = mails(db_session, before)
    cal, event = parsed(cancel)
    assert str(cal["METHOD"]) == "CANCEL" and event["SEQUENCE"] == 2 and str(event["STATUS"]) == "CANCELLED"
    assert meeting not in meetings.upcoming(db_session, anna)
    assert meeting in meetings.past(db_session, anna).items
    with pytest.raises(ValidationFailed, match="abgesagt"):
        meetings.cancel(db_session, user, anna, meeting)


def test_meetings_of_another_profile_are_not_found(db_session):
    anna = profile(db_session)
    max_ = max_with_room(db_session)
    meeting = meetings.schedule(db_session, owner(db_session, max_), max_, meeting_input())
    with pytest.raises(NotFound):
        meetings.meeting_of(db_session, anna, meeting.id)


# --- live ------------------------------------------------------------------------------------


def event(event_id: str, kind: str, call_id: str = "leg-1", at: datetime | None = None, **extra) -> live.EventInput:
    return live.EventInput(event_id=event_id, kind=kind, number=ANNA_CONF, call_id=call_id,
                           occurred_at=(at or utcnow()).isoformat(), **extra)


def test_events_build_the_list_and_a_replay_changes_nothing(db_session):
    anna = profile(db_session)
    person, applied = live.apply_event(db_session, event("e1", "joined", caller="+4940123456789", name="Jan"))
    assert applied and [p.name for p in live.present(db_session, anna)] == ["Jan"]
    live.apply_event(db_session, event("e2", "muted", value=True))
    live.apply_event(db_session, event("e3", "muted", value=False))
    _, applied = live.apply_event(db_session, event("e2", "muted", value=True))  # replayed
    assert not applied and person.muted is False
    live.apply_event(db_session, event("e4", "left"))
    assert live.present(db_session, anna) == []
    _, applied = live.apply_event(db_session, event("e1", "joined", caller="+4940123456789", name="Jan"))
    assert not applied and live.present(db_session, anna) == []


def test_events_out_of_order_keep_the_newest_state(db_session):
    anna = profile(db_session)
    now = utcnow()
    live.apply_event(db_session, event("o1", "left", "leg-9", at=now))
    live.apply_event(db_session, event("o2", "joined", "leg-9", at=now - timedelta(seconds=30), name="Spät"))
    assert live.present(db_session, anna) == []  # the join arrived after its leave
    live.apply_event(db_session, event("o3", "joined", "leg-8", at=now - timedelta(seconds=20), name="Lena"))
    live.apply_event(db_session, event("o4", "talking", "leg-8", at=now, value=True))
    live.apply_event(db_session, event("o5", "talking", "leg-8", at=now - timedelta(seconds=5), value=False))
    (lena,) = live.present(db_session, anna)
    assert lena.talking is True and lena.name == "Lena"


def test_bad_events_are_refused(db_session):
    with pytest.raises(ValidationFailed) as refused:
        live.apply_event(db_session, event("b1", "danced"))
    assert refused.value.field == "kind"
    with pytest.raises(ValidationFailed):
        live.apply_event(db_session, event("b2", "muted"))  # no value
    with pytest.raises(NotFound):
        live.apply_event(db_session, live.EventInput("b3", "joined", "+4930999999", "leg-1"))


def test_moderator_actions_go_to_the_platform_and_show_at_once(db_session):
    anna = profile(db_session)
    user = owner(db_session, anna)
    a = live.simulate(db_session, anna, "join", name="Jan")
    b = live.simulate(db_session, anna, "join", name="Chefin", moderator=True)
    live.set_muted(db_session, user, anna, a.id, True)
    assert a.muted
    assert live.set_all_muted(db_session, user, anna, True) == 1 and not b.muted  # moderators stay
    live.remove(db_session, user, anna, a.id)
    live.set_locked(db_session, user, anna, True)
    actions = [e.payload["action"] for e in events(db_session, "conference.moderator_action")]
    assert actions[-4:] == ["mute", "mute_all", "remove", "lock"]
    assert [p.name for p in live.present(db_session, anna)] == ["Chefin"]
    assert db_session.get(ConferenceRoom, anna.id).locked
    with pytest.raises(NotFound):
        live.set_muted(db_session, user, anna, a.id, False)  # gone


def test_polling_slows_down_and_stops_when_empty(db_session):
    anna = profile(db_session)
    assert live.poll_seconds([]) is None
    person = live.simulate(db_session, anna, "join")
    now = person.updated_at
    assert live.poll_seconds([person], now) == 2
    assert live.poll_seconds([person], now + timedelta(minutes=1)) == 5
    assert live.poll_seconds([person], now + timedelta(minutes=10)) == 15


def test_pin_rows_belong_to_their_room(db_session):
    anna = profile(db_session)
    assert {p.role for p in db_session.scalars(select(ConferencePin).where(ConferencePin.profile_id == anna.id))} \
        == {PinRole.MODERATOR, PinRole.PARTICIPANT}


def test_the_simulated_bridge_keeps_lock_and_size_of_the_room(db_session):
    anna = profile(db_session)
    user = owner(db_session, anna)
    rooms.update_settings(db_session, user, anna, settings(max_participants=2))
    live.simulate(db_session, anna, "join")
    live.simulate(db_session, anna, "join")
    with pytest.raises(ValidationFailed, match="voll"):
        live.simulate(db_session, anna, "join")
    live.simulate(db_session, anna, "leave")
    live.set_locked(db_session, user, anna, True)
    with pytest.raises(ValidationFailed, match="gesperrt"):
        live.simulate(db_session, anna, "join")
    assert live.present(db_session, anna) == []
