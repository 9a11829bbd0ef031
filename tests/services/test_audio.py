"""Audio conversion with real files: every accepted format, made by PyAV, decoded again to check."""

from __future__ import annotations

import functools
import io
import wave

import pytest

from webapp.services import audio

# (container, codec, sample rate, layout) for each accepted upload format.
FORMATS = {
    "wav": ("wav", "pcm_s16le", 44100, "stereo"),
    "mp3": ("mp3", "libmp3lame", 44100, "stereo"),
    "ogg-opus": ("ogg", "libopus", 48000, "mono"),
    "m4a-aac": ("ipod", "aac", 44100, "stereo"),
    "flac": ("flac", "flac", 22050, "mono"),
    "webm-opus": ("webm", "libopus", 48000, "mono"),  # what MediaRecorder records
}


@functools.cache
def tone(kind: str = "wav", seconds: float = 2.0, amplitude: int = 8000) -> bytes:
    """A sine tone in one of the accepted formats, cached per run (tests only read it)."""
    container, codec, rate, layout = FORMATS[kind]
    return audio.sine(seconds, container=container, codec=codec, rate=rate, layout=layout, amplitude=amplitude)


@functools.cache
def telephony_tone(seconds: float = 2.0) -> bytes:
    return audio.sine(seconds, rate=8000, layout="mono")


def long_wav(seconds: int) -> bytes:
    """A long 8 kHz WAV quickly: one second of tone repeated."""
    with wave.open(io.BytesIO(telephony_tone(1.0)), "rb") as one:
        return audio.pcm_to_wav(one.readframes(one.getnframes()) * seconds)


@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_every_accepted_format_converts_to_8khz_mono_16bit_wav_of_the_right_length(kind):
    converted = audio.to_telephony(tone(kind, 2.0))

    with wave.open(io.BytesIO(converted.wav), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
        assert wav.getnframes() / 8000 == pytest.approx(2.0, abs=0.05)
    rate, channels, seconds, codec = audio.decode_info(converted.wav)
    assert (rate, channels, codec) == (8000, 1, "pcm_s16le")
    assert seconds == pytest.approx(2.0, abs=0.05)  # AAC adds a few ms of priming
    assert converted.duration_ms == pytest.approx(2000, abs=50)
    assert not converted.is_silent


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"Dies ist keine Audiodatei, sondern Text.\n" * 20, "keine verwendbare Audiodatei"),
        (b"", "leer"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 64, "keine verwendbare Audiodatei"),
    ],
    ids=["text", "empty", "broken-wav-header"],
)
def test_not_audio_or_corrupt_is_refused_with_a_clear_message(app, data, expected):
    with pytest.raises(audio.AudioRejected) as refused:
        audio.to_telephony(data)
    assert expected in str(refused.value.message)
    assert refused.value.field == "file"


def test_a_truncated_mp3_is_refused(app):
    broken = tone("mp3", 2.0)[:400] + bytes(range(256)) * 8
    with pytest.raises(audio.AudioRejected):
        audio.to_telephony(broken)


def test_longer_than_three_minutes_is_refused(app):
    with pytest.raises(audio.AudioRejected) as refused:
        audio.to_telephony(long_wav(181))
    assert "zu lang" in str(refused.value.message)  # the UI speaks German by default


def test_bigger_than_ten_megabytes_is_refused_before_decoding(app):
    with pytest.raises(audio.AudioRejected) as refused:
        audio.to_telephony(b"\x00" * (10 * 1024 * 1024 + 1))
    assert "zu groß" in str(refused.value.message)


def test_silence_and_too_short_greetings_are_refused(app):
    silent = audio.to_telephony(audio.sine(2.0, rate=8000, layout="mono", amplitude=5))
    assert silent.is_silent
    with pytest.raises(audio.AudioRejected, match="stumm"):
        audio.check_greeting(silent)
    short = audio.to_telephony(audio.sine(0.5, rate=8000, layout="mono"))
    with pytest.raises(audio.AudioRejected, match="zu kurz"):
        audio.check_greeting(short)
    audio.check_greeting(audio.to_telephony(telephony_tone(2.0)))


def test_playback_copy_is_mp3_of_the_same_length():
    wav = audio.to_telephony(telephony_tone(3.0)).wav
    data, mime, suffix = audio.playback_copy(wav)
    assert (mime, suffix) == ("audio/mpeg", ".mp3")
    rate, channels, seconds, _codec = audio.decode_info(data)
    assert (rate, channels) == (8000, 1)
    assert seconds == pytest.approx(3.0, abs=0.1)
    assert len(data) < len(wav) / 3


def test_espeak_speech_converts_to_telephony_audio(app):
    from webapp.services import tts

    if not tts.available():
        pytest.skip("espeak-ng is not installed")
    converted = audio.to_telephony(tts.speak("Guten Tag, dies ist ein Test.", "de"))
    assert 1000 < converted.duration_ms < 6000
    assert not converted.is_silent
