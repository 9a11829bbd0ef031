"""Demo content of the Anrufbeantworter: settings and spoken messages (eSpeak NG) for Anna Schmidt.

Files get fixed keys, so loading the demo again reuses audio already on disk and stays fast.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from ..models import (
    GreetingKind,
    GreetingSource,
    GreetingStatus,
    VoicemailGreeting,
    VoicemailMessage,
    VoicemailMode,
    VoicemailSettings,
    utcnow,
)
from . import audio, storage, tts

MESSAGES = [
    # (caller, minutes ago, heard, text)
    ("+4940123456789", 35, False,
     "Guten Tag Frau Schmidt, hier ist Jan Becker von der Spedition Nord. Bitte rufen Sie mich wegen der Lieferung zurück."),
    (None, 60 * 5, False, "Hallo Anna, ich bin es. Ich komme heute etwas später. Bis dann."),
    ("+493098765432", 60 * 26, True,
     "Hier ist die Praxis Doktor Wolf. Wir möchten Ihren Termin am Donnerstag bestätigen."),
    ("+4915112345678", 60 * 24 * 3, True, "Guten Morgen, hier spricht Müller. Das Angebot ist per E-Mail unterwegs."),
]
GREETING = "Guten Tag, Sie sind verbunden mit dem Anrufbeantworter von Anna Schmidt. Bitte sprechen Sie nach dem Signalton."


def _audio(key: str, text: str, silent_fallback_seconds: float = 3.0) -> tuple[str, int]:
    """(key, duration in ms) of ``text`` as telephony WAV, generated once per media root."""
    if not storage.exists(key):
        spoken = tts.speak(text, "de") if tts.available() else audio.sine(silent_fallback_seconds, rate=8000,
                                                                            layout="mono")
        storage.save(key, audio.to_telephony(spoken).wav)
    import wave

    with storage.open(key) as stream, wave.open(stream, "rb") as wav:
        return key, wav.getnframes() * 1000 // wav.getframerate()


def restore(key: str) -> bool:
    """Speak a demo file again when the media directory lost it (a fresh media root, a cleaned
    instance); True when ``key`` was a demo file and exists again."""
    import re

    found = re.fullmatch(r"voicemail/\d+/(messages/demo-(\d+)|greetings/demo-unavailable)\.wav", key)
    if not found:
        return False
    text = GREETING if found.group(2) is None else MESSAGES[int(found.group(2)) - 1][3]
    _audio(key, text)
    return True


def load(session: Session, refs) -> None:
    anna = refs.profiles["anna"]
    session.add(VoicemailSettings(
        profile_id=anna.id, enabled=True, answer_immediately=False, answer_after_seconds=20,
        mode=VoicemailMode.RECORD, max_message_seconds=120, notify_email=True, attach_audio=True,
        delete_after_send=False, pin_failed_attempts=0,
    ))
    key, duration = _audio(f"voicemail/{anna.id}/greetings/demo-unavailable.wav", GREETING)
    session.add(VoicemailGreeting(
        profile_id=anna.id, kind=GreetingKind.UNAVAILABLE, source=GreetingSource.TTS,
        status=GreetingStatus.ACTIVE, audio_key=key, duration_ms=duration, text=GREETING,
        activated_at=utcnow(),
    ))
    now = utcnow()
    called = "+4930123456711"
    for index, (caller, minutes, heard, text) in enumerate(MESSAGES, start=1):
        key, duration = _audio(f"voicemail/{anna.id}/messages/demo-{index}.wav", text)
        size = len(storage.read(key))
        received = now - timedelta(minutes=minutes)
        session.add(VoicemailMessage(
            profile_id=anna.id, platform_message_id=f"demo-anna-{index}", called_e164=called,
            caller_e164=caller, received_at=received, duration_ms=duration,
            size_bytes=size, audio_key=key,
            heard_at=received + timedelta(minutes=10) if heard else None,
        ))
    session.flush()
