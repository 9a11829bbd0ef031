"""Offline speech synthesis with eSpeak NG (``espeak-ng --stdout``) for greetings typed as text
and for generated demo and test messages. The output is WAV; callers convert it for telephony."""

from __future__ import annotations

import shutil
import subprocess

from flask_babel import lazy_gettext as _l

from .errors import DomainError

VOICES = {"de": "de", "en": "en-gb"}
MAX_TEXT = 1000


class SpeechUnavailable(DomainError):
    status = 503


def _binary() -> str | None:
    found = shutil.which("espeak-ng") or shutil.which("espeak")
    if found:
        return found
    try:  # the espeakng-loader wheel ships a library and data, not a CLI; use it if it has one
        import espeakng_loader  # type: ignore[import-not-found]

        candidate = getattr(espeakng_loader, "get_binary_path", lambda: None)()
        return candidate or None
    except ImportError:
        return None


def available() -> bool:
    return _binary() is not None


def speak(text: str, language: str = "de", *, speed: int = 150) -> bytes:
    """WAV bytes of ``text`` spoken in ``language`` ("de" or "en")."""
    binary = _binary()
    if binary is None:
        raise SpeechUnavailable(_l("Speech synthesis is not available on this server."))
    text = " ".join(text.split())[:MAX_TEXT]
    result = subprocess.run(  # noqa: S603 - fixed binary, text passed as one argument
        [binary, "--stdout", "-v", VOICES.get(language, "de"), "-s", str(speed), "--", text],
        capture_output=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0 or not result.stdout.startswith(b"RIFF"):
        raise SpeechUnavailable(_l("Speech synthesis failed. Please try again."))
    return result.stdout
