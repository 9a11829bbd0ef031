"""Invitations reach a real SMTP server (aiosmtpd) as text/calendar with METHOD and SEQUENCE."""

from __future__ import annotations

import icalendar
import pytest

from tests.services.test_conference import BERLIN, future, meeting_input, owner, profile
from webapp.models import PinRole
from webapp.services.conference import meetings
from webapp.services.conference import room as rooms


@pytest.fixture
def app_config(smtp):
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp[0].port}


@pytest.fixture
def inbox(smtp):
    smtp[1].envelopes.clear()
    return smtp[1]


def calendars(inbox) -> list[tuple[str, icalendar.Calendar]]:
    found = []
    for envelope, message in zip(inbox.envelopes, inbox.messages(), strict=True):
        (part,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
        found.append((envelope.rcpt_tos[0], part.get_param("method"), icalendar.Calendar.from_ical(part.get_content())))
    return found


def test_invitation_update_and_cancel_arrive_by_smtp(db_session, inbox):
    anna = profile(db_session)
    user = owner(db_session, anna)
    pins = rooms.clear_pins(db_session, anna)
    meeting = meetings.schedule(db_session, user, anna, meeting_input())
    db_session.commit()  # delivery runs after the commit (immediately in tests)
    received = calendars(inbox)
    assert sorted(r[0] for r in received) == ["jan.becker@example.com", "lena.fischer@example.com"]
    for _to, method, cal in received:
        event = cal.walk("VEVENT")[0]
        assert method == "REQUEST" and str(cal["METHOD"]) == "REQUEST"
        assert event.decoded("DTSTART") == future().replace(tzinfo=BERLIN)
        assert pins[PinRole.PARTICIPANT] in str(event["DESCRIPTION"])
        assert pins[PinRole.MODERATOR] not in cal.to_ical().decode()
    body = inbox.messages()[0].get_body(preferencelist=("plain",)).get_content()
    assert "030 1234567-12" in body and pins[PinRole.PARTICIPANT] in body and pins[PinRole.MODERATOR] not in body

    inbox.envelopes.clear()
    meetings.change(db_session, user, anna, meeting, meeting_input(title="Quartalsplanung (verschoben)",
                                                                   start=future(hour=9)))
    db_session.commit()
    for _to, method, cal in calendars(inbox):
        event = cal.walk("VEVENT")[0]
        assert method == "REQUEST" and event["SEQUENCE"] == 1 and str(event["UID"]) == meeting.uid
        assert event.decoded("DTSTART") == future(hour=9).replace(tzinfo=BERLIN)

    inbox.envelopes.clear()
    meetings.cancel(db_session, user, anna, meeting)
    db_session.commit()
    received = calendars(inbox)
    assert len(received) == 2
    for _to, method, cal in received:
        assert method == "CANCEL" and cal.walk("VEVENT")[0]["SEQUENCE"] == 2


def test_smtp_down_keeps_the_meeting_and_its_invitations_for_a_retry(db_session, app):
    import contextlib

    from sqlalchemy import select

    from tests.mailserver import free_port
    from webapp.models import ConferenceMeeting, DeliveryStatus, MailMessage

    anna = profile(db_session)
    app.config["SMTP_PORT"] = free_port()  # nobody listens there
    meeting_id = meetings.schedule(db_session, owner(db_session, anna), anna, meeting_input()).id
    with contextlib.suppress(OSError):  # the immediate job raised; in production Huey retries it
        db_session.commit()
    db_session.expire_all()
    assert db_session.get(ConferenceMeeting, meeting_id) is not None
    waiting = db_session.scalars(select(MailMessage).where(MailMessage.attachment_type.like("text/calendar%"))).all()
    assert waiting and all(m.status == DeliveryStatus.PENDING and m.last_error for m in waiting)
