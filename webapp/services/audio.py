"""Audio with PyAV: validate what people and the platform send, convert it once to telephony audio
(8 kHz mono 16-bit PCM WAV), make the browser playback copy, and measure loudness for the silence
check. Decoding decides what a file is, never its name or declared type."""

from __future__ import annotations

import array
import io
import math
import wave
from dataclasses import dataclass

import av
from flask_babel import lazy_gettext as _l

from .errors import ValidationFailed

TELEPHONY_RATE = 8000
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_GREETING_SECONDS = 180
MIN_GREETING_SECONDS = 1.0
# Below this RMS (about -50 dBFS of 16-bit full scale) a recording counts as silence.
SILENCE_RMS = 100
# Containers we accept, by PyAV's demuxer name: WAV, MP3, OGG (Opus/Vorbis), M4A/AAC, FLAC, and
# WebM/Matroska for recordings the browser's MediaRecorder makes.
ACCEPTED_CONTAINERS = {"wav", "mp3", "ogg", "mov,mp4,m4a,3gp,3g2,mj2", "flac", "matroska,webm", "aac"}
ACCEPT_ATTRIBUTE = ".wav,.mp3,.ogg,.opus,.oga,.m4a,.aac,.mp4,.flac,.webm,audio/*"


class AudioRejected(ValidationFailed):
    """An upload or deposit that is not usable audio; the message says why."""


@dataclass(frozen=True)
class TelephonyAudio:
    wav: bytes  # 8 kHz mono s16 WAV
    duration_ms: int
    rms: float
    source_format: str

    @property
    def is_silent(self) -> bool:
        return self.rms < SILENCE_RMS


def _seconds_text(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


def to_telephony(data: bytes, *, max_seconds: float = MAX_GREETING_SECONDS,
                 max_bytes: int = MAX_UPLOAD_BYTES) -> TelephonyAudio:
    """Decode any accepted audio and resample it to 8 kHz mono 16-bit PCM WAV.

    Raises ``AudioRejected`` for empty, too big, non-audio, corrupt or too long input.
    """
    if not data:
        raise AudioRejected(_l("The file is empty."), field="file")
    if len(data) > max_bytes:
        raise AudioRejected(
            _l("The file is too big (%(size)s MB); at most %(limit)s MB are allowed.",
               size=f"{len(data) / 1048576:.1f}", limit=max_bytes // 1048576),
            field="file",
        )
    max_samples = int(max_seconds * TELEPHONY_RATE)
    pcm = bytearray()
    try:
        with av.open(io.BytesIO(data), mode="r", metadata_errors="ignore") as container:
            fmt = container.format.name
            if fmt not in ACCEPTED_CONTAINERS or not container.streams.audio:
                raise AudioRejected(
                    _l("This file is not an audio file we can use. Please upload WAV, MP3, OGG/Opus, M4A/AAC or FLAC."),
                    field="file",
                )
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="s16", layout="mono", rate=TELEPHONY_RATE)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    pcm += bytes(out.planes[0])[: out.samples * 2]
                if len(pcm) // 2 > max_samples:
                    raise AudioRejected(
                        _l("The recording is too long; at most %(limit)s minutes are allowed.",
                           limit=_seconds_text(max_seconds)),
                        field="file",
                    )
            for out in resampler.resample(None):
                pcm += bytes(out.planes[0])[: out.samples * 2]
    except AudioRejected:
        raise
    except (av.FFmpegError, ValueError, EOFError, IndexError, UnicodeDecodeError) as exc:
        raise AudioRejected(
            _l("This file is not an audio file we can use or it is damaged. Please upload WAV, MP3, OGG/Opus, M4A/AAC or FLAC."),
            field="file",
        ) from exc
    samples = len(pcm) // 2
    if samples == 0:
        raise AudioRejected(_l("The file contains no sound."), field="file")
    if samples > max_samples:
        raise AudioRejected(
            _l("The recording is too long; at most %(limit)s minutes are allowed.",
               limit=_seconds_text(max_seconds)),
            field="file",
        )
    return TelephonyAudio(
        wav=pcm_to_wav(bytes(pcm[: samples * 2])),
        duration_ms=samples * 1000 // TELEPHONY_RATE,
        rms=rms(pcm),
        source_format=fmt,
    )


def pcm_to_wav(pcm: bytes, rate: int = TELEPHONY_RATE) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm)
    return buffer.getvalue()


def rms(pcm: bytes | bytearray) -> float:
    samples = array.array("h")
    samples.frombytes(bytes(pcm[: len(pcm) // 2 * 2]))
    if not samples:
        return 0.0
    # Every 4th sample is plenty for a loudness estimate and keeps long files cheap.
    picked = samples[::4]
    return math.sqrt(sum(s * s for s in picked) / len(picked))


def check_greeting(audio: TelephonyAudio) -> None:
    """A greeting must be audible and at least a second long."""
    if audio.duration_ms < MIN_GREETING_SECONDS * 1000:
        raise AudioRejected(_l("The greeting is too short; it must last at least one second."),
                            field="file")
    if audio.is_silent:
        raise AudioRejected(_l("The greeting is silent. Please check the recording."), field="file")


def playback_copy(wav: bytes) -> tuple[bytes, str, str]:
    """The browser copy of a telephony WAV: MP3 when PyAV has an encoder (small, plays in every
    browser, seekable by byte Range), else the WAV itself. Returns (data, mime type, suffix)."""
    encoder = _mp3_encoder()
    if encoder is None:
        return wav, "audio/wav", ".wav"
    with wave.open(io.BytesIO(wav), "rb") as source:
        rate, pcm = source.getframerate(), source.readframes(source.getnframes())
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp3") as container:
        stream = container.add_stream(encoder, rate=rate, layout="mono")
        stream.bit_rate = 32000
        step = 1152
        for start in range(0, len(pcm) // 2, step):
            chunk = pcm[start * 2:(start + step) * 2]
            frame = av.AudioFrame(format="s16", layout="mono", samples=len(chunk) // 2)
            frame.planes[0].update(chunk)
            frame.sample_rate = rate
            frame.pts = start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue(), "audio/mpeg", ".mp3"


def _mp3_encoder() -> str | None:
    for name in ("libmp3lame", "mp3"):
        try:
            av.codec.Codec(name, "w")
            return name
        except Exception:  # noqa: BLE001, S112 - not built into this PyAV
            continue
    return None


def decode_info(data: bytes) -> tuple[int, int, float, str]:
    """(sample rate, channels, seconds, codec) of ``data`` by decoding it completely (tests, checks)."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        ctx = stream.codec_context
        return ctx.sample_rate, ctx.channels, samples / ctx.sample_rate, ctx.name


def sine(seconds: float, *, container: str = "wav", codec: str = "pcm_s16le", rate: int = 44100,
         layout: str = "stereo", frequency: float = 440.0, amplitude: int = 8000) -> bytes:
    """A sine tone encoded with PyAV, for demo data and tests of every accepted format."""
    channels = 2 if layout == "stereo" else 1
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container) as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        total, step, done = int(rate * seconds), 1024, 0
        while done < total:
            count = min(step, total - done)
            frame = av.AudioFrame(format="s16", layout=layout, samples=count)
            values = array.array("h", (
                int(amplitude * math.sin(2 * math.pi * frequency * (done + i) / rate))
                for i in range(count) for _ in range(channels)
            ))
            frame.planes[0].update(values.tobytes())
            frame.sample_rate = rate
            frame.pts = done
            done += count
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buffer.getvalue()
