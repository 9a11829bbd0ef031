"""Who is in the room now, from the platform's events, and the moderator's actions.

Events (joined, left, talking, muted) carry the platform's ``event_id`` and the time they
happened. An event id already applied changes nothing (a replay); every state of a participant
keeps the time it was set at, so an event that arrives after a newer one for the same state is
ignored (out of order), and a ``joined`` arriving after its ``left`` leaves the caller gone.

Moderator actions go to the platform through the seam (``platform.emit``) and are applied here at
once with the current time, so the page shows their result; the platform's own confirming events
carry the same or a later time and agree.

Pages follow the room by polling (``poll_seconds``), not by server-sent events: the portal runs
on synchronous gunicorn workers, where every open event stream would hold a whole worker per
viewer. Polling is short, slows down while nothing changes and stops when the room is empty.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...models import ConferenceEvent, ConferenceParticipant, UmsProfile, User, utcnow
from .. import audit, deposits, platform
from ..errors import NotFound, ValidationFailed
from ..inbox import valid_id
from . import room as rooms

KINDS = ("joined", "left", "talking", "muted")


@dataclass
class EventInput:
    event_id: str
    kind: str
    number: str
    call_id: str
    occurred_at: str | None = None
    caller: str | None = None
    name: str | None = None
    moderator: bool = False
    value: bool | None = None  # talking / muted


def _parse(data: EventInput) -> tuple[datetime, str | None]:
    deposits.platform_id(data.event_id, "event_id")
    if data.kind not in KINDS:
        raise ValidationFailed(_l("kind must be one of joined, left, talking, muted."), field="kind")
    deposits.platform_id(data.call_id, "call_id")
    if data.kind in ("talking", "muted") and not isinstance(data.value, bool):
        raise ValidationFailed(_l("value (true or false) is missing."), field="value")
    if data.occurred_at:
        try:
            at = datetime.fromisoformat(str(data.occurred_at).strip().replace("Z", "+00:00"))
            at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
        except (ValueError, OverflowError) as exc:
            raise ValidationFailed(_l("occurred_at is not an ISO 8601 time."), field="occurred_at") from exc
        if not utcnow() - timedelta(days=2) <= at <= utcnow() + timedelta(minutes=5):
            raise ValidationFailed(_l("occurred_at is not plausible: more than two days ago or in the future."),
                                   field="occurred_at")
    else:
        at = utcnow()
    return at, deposits.caller_number(data.caller)


def apply_event(session: Session, data: EventInput) -> tuple[ConferenceParticipant | None, bool]:
    """Apply one platform event; returns (participant, applied). A replay returns applied=False."""
    at, caller = _parse(data)
    number = deposits.normalize_number(data.number)
    profile = rooms.profile_for_number(session, number) if number else None
    if profile is None:
        raise NotFound(_l("No conference room answers on this number."))
    if session.get(ConferenceEvent, data.event_id) is not None:
        return _participant(session, profile, data.call_id), False
    try:
        with session.begin_nested():
            session.add(ConferenceEvent(event_id=data.event_id, profile_id=profile.id, kind=data.kind, occurred_at=at))
            session.flush()
    except IntegrityError:  # the same event at the same moment in another request
        return _participant(session, profile, data.call_id), False
    person = _participant(session, profile, data.call_id)
    if person is None:
        person = ConferenceParticipant(profile_id=profile.id, call_id=data.call_id, joined_at=at, talking=False,
                                       muted=False, is_moderator=False)
        try:
            with session.begin_nested():
                session.add(person)
                session.flush()
        except IntegrityError:
            person = _participant(session, profile, data.call_id)
    if data.kind == "joined":
        person.joined_at = min(person.joined_at, at)
        person.caller = caller or person.caller
        person.name = (data.name or "").replace("\x00", "").strip()[:100] or person.name
        person.is_moderator = bool(data.moderator)
    elif data.kind == "left":
        if person.left_at is None or at > person.left_at:
            person.left_at = at
        person.joined_at = min(person.joined_at, at)
    elif data.kind == "talking":
        if person.talking_at is None or at >= person.talking_at:
            person.talking, person.talking_at = data.value, at
    elif data.kind == "muted" and (person.muted_at is None or at >= person.muted_at):
        person.muted, person.muted_at = data.value, at
    session.flush()
    return person, True


def _participant(session: Session, profile: UmsProfile, call_id: str) -> ConferenceParticipant | None:
    return session.scalar(select(ConferenceParticipant).where(
        ConferenceParticipant.profile_id == profile.id, ConferenceParticipant.call_id == call_id))


def present(session: Session, profile: UmsProfile) -> list[ConferenceParticipant]:
    """Who is in the room: moderators first, then by arrival."""
    return list(session.scalars(select(ConferenceParticipant).where(
        ConferenceParticipant.profile_id == profile.id, ConferenceParticipant.left_at.is_(None),
    ).order_by(ConferenceParticipant.is_moderator.desc(), ConferenceParticipant.joined_at,
               ConferenceParticipant.id)))


def poll_seconds(participants: list[ConferenceParticipant], now: datetime | None = None) -> int | None:
    """How soon the page asks again: 2 s right after a change, slower while the room is quiet,
    None (stop) when it is empty."""
    if not participants:
        return None
    now = now or utcnow()
    quiet = now - max(p.updated_at for p in participants)
    if quiet < timedelta(seconds=30):
        return 2
    if quiet < timedelta(minutes=3):
        return 5
    return 15


def state_tag(room, participants: list[ConferenceParticipant], poll: int | None) -> str:
    """A short tag of what the live list shows (and how often it asks): a poll that sends the tag
    it has gets "nothing new" (204) and the page stays as it is, with the focus where it was."""
    import hashlib

    parts = [str(bool(room and room.locked)), str(poll)] + [
        f"{p.id}:{p.updated_at.timestamp()}:{p.talking}:{p.muted}" for p in participants]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


# --- moderator actions -----------------------------------------------------------------------


def display_name(person: ConferenceParticipant) -> str:
    """How the page and its messages name a participant: name, else number, else „Unbekannt"."""
    from ..phone import display

    return person.name or (display(person.caller) if person.caller else str(_l("Unbekannt")))


def participant_of(session: Session, profile: UmsProfile, participant_id: int) -> ConferenceParticipant:
    person = session.get(ConferenceParticipant, participant_id) if valid_id(participant_id) else None
    if person is None or person.profile_id != profile.id or person.left_at is not None:
        raise NotFound(_l("This participant is no longer in the room."))
    return person


def _emit(session: Session, user: User, profile: UmsProfile, action: str, **payload) -> None:
    number = rooms.number_of(session, profile)
    if number is None:
        raise ValidationFailed(_l("No conference number is assigned yet. Your administrator assigns one."))
    platform.emit(session, "conference.moderator_action", profile_id=profile.id, number=number.e164,
                  action=action, **payload)
    audit.record(session, user, f"conference.{action}", customer_id=profile.customer_id, profile_id=profile.id,
                 subject=profile.email, **payload)


def set_muted(session: Session, user: User, profile: UmsProfile, participant_id: int, muted: bool) -> ConferenceParticipant:
    person = participant_of(session, profile, participant_id)
    person.muted, person.muted_at = muted, utcnow()
    session.flush()
    _emit(session, user, profile, "mute" if muted else "unmute", call_id=person.call_id)
    return person


def set_all_muted(session: Session, user: User, profile: UmsProfile, muted: bool) -> int:
    """Everyone but the moderators."""
    result = session.execute(update(ConferenceParticipant).where(
        ConferenceParticipant.profile_id == profile.id, ConferenceParticipant.left_at.is_(None),
        ConferenceParticipant.is_moderator.is_(False),
    ).values(muted=muted, muted_at=utcnow(), updated_at=utcnow()).execution_options(synchronize_session="fetch"))
    session.flush()
    _emit(session, user, profile, "mute_all" if muted else "unmute_all")
    return result.rowcount or 0


def remove(session: Session, user: User, profile: UmsProfile, participant_id: int) -> ConferenceParticipant:
    person = participant_of(session, profile, participant_id)
    person.left_at, person.talking = utcnow(), False
    session.flush()
    _emit(session, user, profile, "remove", call_id=person.call_id)
    return person


def set_locked(session: Session, user: User, profile: UmsProfile, locked: bool):
    room = rooms.require_room(session, user, profile)
    room.locked = locked
    session.flush()
    _emit(session, user, profile, "lock" if locked else "unlock")
    return room


# --- simulator (demo and tests: the same path as the platform's events) ----------------------


SIM_NAMES = ("Jonas Weber", "Lena Fischer", "Murat Yilmaz", "Sophie Wagner", "Paul Becker", "Mia Hoffmann")


def simulate(session: Session, profile: UmsProfile, action: str, participant_id: int | None = None,
             *, name: str | None = None, moderator: bool = False) -> ConferenceParticipant | None:
    """``join`` a new caller, ``talk``/``quiet``, or ``leave`` (one, or everyone when no id)."""
    number = rooms.number_of(session, profile)
    if number is None:
        raise ValidationFailed(_l("No conference number is assigned yet. Your administrator assigns one."))

    def event(kind: str, call_id: str, **extra) -> ConferenceParticipant | None:
        return apply_event(session, EventInput(event_id=f"sim-{secrets.token_hex(8)}", kind=kind,
                                               number=number.e164, call_id=call_id, **extra))[0]

    if action == "join":
        # The simulated bridge keeps the room's rules: a locked or full room takes nobody more.
        count = len(present(session, profile))
        room = rooms.room_of(session, profile)
        if room is not None and room.locked:
            raise ValidationFailed(_l("The room is locked: nobody else can join."))
        if room is not None and count >= room.max_participants:
            raise ValidationFailed(_l("The room is full (at most %(num)d participants).", num=room.max_participants))
        caller = f"+49151{secrets.randbelow(10**8):08d}"
        return event("joined", f"sim-{secrets.token_hex(6)}", caller=caller,
                     name=name or SIM_NAMES[count % len(SIM_NAMES)], moderator=moderator)
    if action == "leave" and participant_id is None:
        for person in present(session, profile):
            event("left", person.call_id)
        return None
    person = participant_of(session, profile, participant_id or 0)
    if action in ("talk", "quiet"):
        return event("talking", person.call_id, value=action == "talk")
    if action == "leave":
        return event("left", person.call_id)
    raise ValidationFailed(_l("Unknown simulator action."))
