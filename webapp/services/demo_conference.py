"""Demo content of the Konferenz: Anna Schmidt's room with its PINs, two planned meetings (stored
without sending invitations: the demo addresses receive no mail) and one recording."""

from __future__ import annotations

import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ..models import ConferenceMeeting, utcnow
from . import audio, tts
from .conference import recordings, room


def load(session: Session, refs) -> None:
    profile = refs.profiles.get("anna")
    if profile is None or room.ensure_room(session, None, profile) is None:
        return
    berlin = ZoneInfo("Europe/Berlin")
    tomorrow = (utcnow().astimezone(berlin) + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    for days, title, minutes, invitees in (
        (0, "Wochenbesprechung Vertrieb", 60, ["jan.becker@example.com", "lena.fischer@example.com"]),
        (2, "Projekt-Kickoff Hamburg", 90, ["paul.becker@example.com"]),
    ):
        session.add(ConferenceMeeting(
            profile_id=profile.id, uid=f"{uuid.uuid4()}@ums-portal", title=title,
            starts_at=(tomorrow + timedelta(days=days)), timezone="Europe/Berlin", duration_minutes=minutes,
            agenda="", invitees=invitees, sequence=0))
    session.flush()
    room.room_of(session, profile).allow_recording = True
    text = "Guten Morgen zusammen, willkommen zur Wochenbesprechung. Beginnen wir mit den Zahlen."
    data = tts.speak(text, "de") if tts.available() else audio.sine(4.0, rate=8000, layout="mono")
    recordings.deposit_generated(session, room.number_of(session, profile).e164, data=data,
                                 started_at=utcnow() - timedelta(days=6, hours=2))
