"""Scheduled meetings in a profile's room and their invitations (iCalendar, RFC 5545/5546).

A start is entered and stored for Europe/Berlin (as UTC plus the zone's name); pages show it in
the viewer's zone. Every invitation version raises SEQUENCE under the same UID: a change sends
METHOD:REQUEST again, a cancellation (and an invitee taken off the list) METHOD:CANCEL. The
invitation carries the dial-in number and the participant PIN — never the moderator PIN.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...models import ConferenceMeeting, PinRole, UmsProfile, User, utcnow
from .. import audit, mail
from ..errors import NotFound, ValidationFailed
from ..inbox import valid_id
from . import room as rooms

ZONE = "Europe/Berlin"
MAX_INVITEES = 50
MAX_MINUTES = 8 * 60
PAGE_SIZE = 10
MAX_DAYS_AHEAD = 2 * 366


@dataclass
class MeetingInput:
    title: str
    start: datetime | None  # naive wall-clock time in Europe/Berlin
    duration_minutes: int | None
    agenda: str
    invitees: str  # addresses separated by commas, semicolons, spaces or lines


def parse_invitees(text: str) -> list[str]:
    """Addresses normalised (domain lower-cased), duplicates dropped; all bad ones named at once."""
    parts = [p for p in re.split(r"[\s,;]+", text or "") if p]
    good, bad, seen = [], [], set()
    for part in parts:
        try:
            address = validate_email(part, check_deliverability=False).normalized
        except EmailNotValidError:
            bad.append(part)
            continue
        if address.lower() not in seen:
            seen.add(address.lower())
            good.append(address)
    if bad:
        raise ValidationFailed(_l("Not an e-mail address: %(list)s", list=", ".join(bad[:10])), field="invitees")
    if len(good) > MAX_INVITEES:
        raise ValidationFailed(_l("At most 50 invitees (you entered %(count)d).", count=len(good)), field="invitees")
    return good


def _start_utc(local: datetime | None) -> datetime:
    if local is None:
        raise ValidationFailed(_l("Please enter the start date and time."), field="start")
    zone = ZoneInfo(ZONE)
    local = local.replace(second=0, microsecond=0)
    try:
        start = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
        back = start.astimezone(zone).replace(tzinfo=None)
    except (OverflowError, ValueError) as exc:  # the edge of the calendar (year 1 or 9999)
        raise ValidationFailed(_l("Please enter the start date and time."), field="start") from exc
    if back != local:
        raise ValidationFailed(_l("This time does not exist in Berlin (the clocks go forward then). "
                                  "Please choose another time."), field="start")
    return start


def _validate(session: Session, profile: UmsProfile, data: MeetingInput,
              meeting: ConferenceMeeting | None) -> tuple[str, datetime, int, str, list[str]]:
    if rooms.number_of(session, profile) is None:  # an invitation without a dial-in is no use
        raise ValidationFailed(_l("No conference number is assigned yet. Your administrator assigns one."))
    title = (data.title or "").strip()
    if not title:
        raise ValidationFailed(_l("Please enter a title."), field="title")
    if len(title) > 200:
        raise ValidationFailed(_l("The title is too long (at most 200 characters)."), field="title")
    if "\x00" in title or "\x00" in (data.agenda or ""):
        raise ValidationFailed(_l("The text contains a character that cannot be stored."),
                               field="title" if "\x00" in title else "agenda")
    start = _start_utc(data.start)
    if start < utcnow():
        raise ValidationFailed(_l("The start lies in the past. Please choose a time from now on."), field="start")
    if start > utcnow() + timedelta(days=MAX_DAYS_AHEAD):
        raise ValidationFailed(_l("The start lies too far ahead (at most two years)."), field="start")
    if not isinstance(data.duration_minutes, int) or not 5 <= data.duration_minutes <= MAX_MINUTES:
        raise ValidationFailed(_l("The duration must be between 5 minutes and 8 hours."), field="duration_minutes")
    agenda = (data.agenda or "").strip()
    if len(agenda) > 5000:
        raise ValidationFailed(_l("The agenda is too long (at most 5000 characters)."), field="agenda")
    invitees = parse_invitees(data.invitees)
    clash = overlapping(session, profile, start, data.duration_minutes, exclude_id=meeting.id if meeting else None)
    if clash is not None:
        raise ValidationFailed(_l("The room is already booked then: „%(title)s“ (%(start)s, %(minutes)d minutes).",
                                  title=clash.title, start=local_text(clash.starts_at),
                                  minutes=clash.duration_minutes), field="start")
    return title, start, data.duration_minutes, agenda, invitees


def local_text(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(ZONE)).strftime("%d.%m.%Y %H:%M")


def overlapping(session: Session, profile: UmsProfile, start: datetime, minutes: int, *,
                exclude_id: int | None = None) -> ConferenceMeeting | None:
    """A meeting of the same room that is not cancelled and shares some time with the new one."""
    end = start + timedelta(minutes=minutes)
    conditions = [ConferenceMeeting.profile_id == profile.id, ConferenceMeeting.cancelled_at.is_(None),
                  ConferenceMeeting.starts_at < end,
                  ConferenceMeeting.starts_at > start - timedelta(minutes=MAX_MINUTES)]
    if exclude_id is not None:
        conditions.append(ConferenceMeeting.id != exclude_id)
    for other in session.scalars(select(ConferenceMeeting).where(*conditions).order_by(ConferenceMeeting.starts_at)):
        if other.starts_at + timedelta(minutes=other.duration_minutes) > start:
            return other
    return None


def ends_at(meeting: ConferenceMeeting) -> datetime:
    return meeting.starts_at + timedelta(minutes=meeting.duration_minutes)


# --- create, change, cancel ------------------------------------------------------------------


def schedule(session: Session, user: User, profile: UmsProfile, data: MeetingInput) -> ConferenceMeeting:
    rooms.require_room(session, user, profile)
    title, start, minutes, agenda, invitees = _validate(session, profile, data, None)
    meeting = ConferenceMeeting(profile_id=profile.id, uid=f"{uuid.uuid4()}@ums-portal", title=title,
                                starts_at=start, timezone=ZONE, duration_minutes=minutes, agenda=agenda,
                                invitees=invitees, sequence=0)
    session.add(meeting)
    session.flush()
    _audit(session, user, profile, meeting, "conference.meeting_scheduled")
    _send(session, profile, meeting, invitees, "REQUEST")
    return meeting


def change(session: Session, user: User, profile: UmsProfile, meeting: ConferenceMeeting,
           data: MeetingInput) -> ConferenceMeeting:
    _require_open(meeting)
    title, start, minutes, agenda, invitees = _validate(session, profile, data, meeting)
    removed = [a for a in meeting.invitees if a.lower() not in {i.lower() for i in invitees}]
    meeting.title, meeting.starts_at, meeting.duration_minutes = title, start, minutes
    meeting.agenda, meeting.invitees = agenda, invitees
    meeting.sequence += 1
    session.flush()
    _audit(session, user, profile, meeting, "conference.meeting_changed")
    _send(session, profile, meeting, invitees, "REQUEST")
    _send(session, profile, meeting, removed, "CANCEL")
    return meeting


def cancel(session: Session, user: User, profile: UmsProfile, meeting: ConferenceMeeting) -> ConferenceMeeting:
    _require_open(meeting)
    meeting.cancelled_at = utcnow()
    meeting.sequence += 1
    session.flush()
    _audit(session, user, profile, meeting, "conference.meeting_cancelled")
    _send(session, profile, meeting, meeting.invitees, "CANCEL")
    return meeting


def _require_open(meeting: ConferenceMeeting) -> None:
    if meeting.cancelled_at is not None:
        raise ValidationFailed(_l("This meeting has been cancelled and cannot be changed."))
    if ends_at(meeting) <= utcnow():
        raise ValidationFailed(_l("This meeting is over and cannot be changed."))


def _audit(session, user, profile, meeting, action) -> None:
    audit.record(session, user, action, customer_id=profile.customer_id, profile_id=profile.id,
                 subject=profile.email, meeting=meeting.id, title=meeting.title, sequence=meeting.sequence)


# --- reading ---------------------------------------------------------------------------------


def meeting_of(session: Session, profile: UmsProfile, meeting_id: int) -> ConferenceMeeting:
    meeting = session.get(ConferenceMeeting, meeting_id) if valid_id(meeting_id) else None
    if meeting is None or meeting.profile_id != profile.id:
        raise NotFound(_l("This meeting does not exist."))
    return meeting


def upcoming(session: Session, profile: UmsProfile) -> list[ConferenceMeeting]:
    """Meetings not cancelled that have not ended, soonest first (at most a day's worth of 8 h
    ones overlap "now", so reading from eight hours back is enough)."""
    now = utcnow()
    rows = session.scalars(select(ConferenceMeeting).where(
        ConferenceMeeting.profile_id == profile.id, ConferenceMeeting.cancelled_at.is_(None),
        ConferenceMeeting.starts_at > now - timedelta(minutes=MAX_MINUTES),
    ).order_by(ConferenceMeeting.starts_at, ConferenceMeeting.id))
    return [m for m in rows if ends_at(m) > now]


@dataclass
class PastPage:
    items: list[ConferenceMeeting]
    page: int
    pages: int
    total: int


def past(session: Session, profile: UmsProfile, page: int = 1) -> PastPage:
    """Meetings that started before now or were cancelled, newest first, a page at a time."""
    now = utcnow()
    condition = [ConferenceMeeting.profile_id == profile.id,
                 (ConferenceMeeting.starts_at <= now) | ConferenceMeeting.cancelled_at.is_not(None)]
    total = session.scalar(select(func.count()).select_from(ConferenceMeeting).where(*condition)) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    items = list(session.scalars(select(ConferenceMeeting).where(*condition)
                                 .order_by(ConferenceMeeting.starts_at.desc(), ConferenceMeeting.id.desc())
                                 .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    # a running meeting is in both lists: it started, and it is not over
    return PastPage(items, page, pages, total)


# --- iCalendar -------------------------------------------------------------------------------


def calendar(session: Session, profile: UmsProfile, meeting: ConferenceMeeting, method: str) -> bytes:
    """The invitation (METHOD:REQUEST) or cancellation (METHOD:CANCEL) as an .ics file."""
    dial = rooms.dial_in(rooms.number_of(session, profile))
    participant_pin = rooms.clear_pins(session, profile).get(PinRole.PARTICIPANT)
    zone = ZoneInfo(meeting.timezone or ZONE)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//UMS Portal//Konferenz//DE")
    cal.add("version", "2.0")
    cal.add("method", method)
    event = icalendar.Event()
    event.add("uid", meeting.uid)
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", utcnow())
    event.add("dtstart", meeting.starts_at.astimezone(zone))
    event.add("dtend", ends_at(meeting).astimezone(zone))
    event.add("summary", meeting.title)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    lines = []
    if dial:
        lines.append(f"Einwahl / Dial-in: {dial.national} (international {dial.international})")
        event.add("location", f"Telefonkonferenz {dial.national}")
    if participant_pin:
        lines.append(f"Teilnehmer-PIN / Participant PIN: {participant_pin}")
    if dial and participant_pin:
        lines.append(f"Direkt / Direct: tel:{dial.e164},,{participant_pin}#")
    if meeting.agenda:
        lines += ["", meeting.agenda]
    event.add("description", "\n".join(lines))
    organizer = icalendar.vCalAddress(f"mailto:{profile.email}")
    organizer.params["cn"] = icalendar.vText(profile.full_name)
    event.add("organizer", organizer)
    for address in meeting.invitees:
        attendee = icalendar.vCalAddress(f"mailto:{address}")
        attendee.params["role"] = icalendar.vText("REQ-PARTICIPANT")
        attendee.params["rsvp"] = icalendar.vText("TRUE")
        event.add("attendee", attendee)
    cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()


def ics_name(meeting: ConferenceMeeting) -> str:
    return f"konferenz-{meeting.starts_at.astimezone(ZoneInfo(ZONE)).strftime('%Y-%m-%d-%H%M')}.ics"


def _send(session: Session, profile: UmsProfile, meeting: ConferenceMeeting, addresses: list[str],
          method: str) -> None:
    if not addresses:
        return
    data = calendar(session, profile, meeting, method)
    dial = rooms.dial_in(rooms.number_of(session, profile))
    pin = rooms.clear_pins(session, profile).get(PinRole.PARTICIPANT)
    if method == "CANCEL":
        template, subject = "conference_cancellation", _l("Cancelled: %(title)s", title=meeting.title)
    elif meeting.sequence:
        template, subject = "conference_invitation", _l("Changed: %(title)s", title=meeting.title)
    else:
        template, subject = "conference_invitation", _l("Invitation: %(title)s", title=meeting.title)
    for address in addresses:
        mail.queue(session, address, template, subject=subject, locale=profile.language or "de",
                   attachment=(ics_name(meeting), f"text/calendar; method={method}", data),
                   profile=profile, meeting=meeting, dial=dial, participant_pin=pin,
                   start=local_text(meeting.starts_at), changed=bool(meeting.sequence))
