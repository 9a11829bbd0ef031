"""Deposits and PIN checks from the telephony platform on the signed API."""

from __future__ import annotations

import json
import threading
import time

import pytest
from sqlalchemy import func, select
from werkzeug.test import EnvironBuilder

from tests.services.test_audio import tone
from tests.services.test_voicemail import ANNA_NUMBER, anna
from webapp.models import VoicemailMessage
from webapp.services import platform
from webapp.services import voicemail as vm

SECRET = "test-platform-secret"  # tests.conftest.test_config
# A signed request is accepted once: equal bodies to one path get timestamps of their own (within
# the window), as the platform's retries do, so they are two requests, not a replay.
_SIGNED: set[tuple[int, str, bytes]] = set()
_SIGNED_LOCK = threading.Lock()


def _fresh_timestamp(path: str, body: bytes) -> str:
    with _SIGNED_LOCK:
        ts = int(time.time())
        while (ts, path, body) in _SIGNED:
            ts -= 1
        _SIGNED.add((ts, path, body))
        return str(ts)


def signed_post(client, path: str, *, fields: dict | None = None, files: dict | None = None,
                json_body: dict | None = None, secret: str = SECRET, ts: str | None = None):
    """POST a body signed like the platform does (HMAC over timestamp and the exact body)."""
    if json_body is not None:
        body, content_type = json.dumps(json_body).encode(), "application/json"
    else:
        data = dict(fields or {})
        for name, (content, filename) in (files or {}).items():
            data[name] = (__import__("io").BytesIO(content), filename)
        environ = EnvironBuilder(method="POST", data=data).get_environ()
        body, content_type = environ["wsgi.input"].read(), environ["CONTENT_TYPE"]
    ts = ts or _fresh_timestamp(path, body)
    headers = {platform.TIMESTAMP_HEADER: ts, platform.SIGNATURE_HEADER: platform.sign(secret, ts, body)}
    return client.post(path, data=body, content_type=content_type, headers=headers)


def deposit_fields(message_id: str = "plat-abc-1", called: str = ANNA_NUMBER, caller: str = "+4940123456789") -> dict:
    return {"called": called, "caller": caller, "received_at": "2026-11-30T09:15:00+01:00",
            "platform_message_id": message_id}


def post_deposit(client, audio: bytes | None = None, secret: str = SECRET, **fields):
    return signed_post(client, "/api/v1/voicemail/messages", fields=deposit_fields(**fields),
                       files={"audio": (audio if audio is not None else tone("wav", 1.0), "message.wav")},
                       secret=secret)


def count(db_session, message_id: str) -> int:
    return db_session.scalar(select(func.count()).select_from(VoicemailMessage)
                             .where(VoicemailMessage.platform_message_id == message_id))


def test_deposit_with_a_wrong_signature_is_refused(client, db_session):
    response = post_deposit(client, secret="wrong-secret", message_id="plat-wrong-sig")
    assert response.status_code == 401
    assert response.json["error"] == "unauthorized"
    assert count(db_session, "plat-wrong-sig") == 0


def test_deposit_stores_once_even_when_sent_twice(client, db_session):
    first = post_deposit(client, message_id="plat-twice")
    assert first.status_code == 201, first.json
    assert first.json["created"] is True and first.json["duration_ms"] == pytest.approx(1000, abs=30)
    second = post_deposit(client, message_id="plat-twice")
    assert second.status_code == 200
    assert second.json == {**first.json, "created": False}
    assert count(db_session, "plat-twice") == 1
    stored = db_session.scalar(select(VoicemailMessage).where(VoicemailMessage.platform_message_id == "plat-twice"))
    assert stored.caller_e164 == "+4940123456789"
    assert stored.received_at.isoformat() == "2026-11-30T08:15:00+00:00"


@pytest.mark.parametrize("audio_kind", ["mp3", "ogg-opus", "m4a-aac", "flac"])
def test_deposit_accepts_every_audio_format(client, audio_kind):
    response = post_deposit(client, audio=tone(audio_kind, 1.0), message_id=f"plat-format-{audio_kind}")
    assert response.status_code == 201, response.json


def test_deposit_for_a_number_without_voicemail_is_404(client):
    response = post_deposit(client, called="+4930123456710", message_id="plat-fax-number")  # Anna's fax
    assert response.status_code == 404
    assert response.json["error"] == "NotFound" and "+4930123456710" in response.json["message"]


def test_deposit_for_a_switched_off_voicemail_is_409(client, db_session):
    vm.settings_of(db_session, anna(db_session)).enabled = False
    db_session.commit()
    response = post_deposit(client, message_id="plat-off")
    assert response.status_code == 409
    assert response.json["error"] == "VoicemailUnavailable" and "switched off" in response.json["message"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"message_id": ""}, "platform_message_id"),
        ({"called": "hello"}, "called"),
        ({"caller": "x1"}, "caller"),
    ],
)
def test_bad_input_gets_a_json_422_naming_the_field(client, fields, field):
    response = post_deposit(client, **fields)
    assert response.status_code == 422
    assert response.json["field"] == field and response.json["message"]


def test_audio_is_checked_like_an_upload(client, db_session):
    text = post_deposit(client, audio=b"this is not audio\n" * 20, message_id="plat-text")
    assert text.status_code == 422 and text.json["field"] == "audio"  # the deposit's own field name
    assert "not an audio file" in text.json["message"]
    missing = signed_post(client, "/api/v1/voicemail/messages", fields=deposit_fields("plat-missing"))
    assert missing.status_code == 422 and missing.json["field"] == "audio"
    assert count(db_session, "plat-text") == 0


def test_pin_check_answers_yes_or_no_and_locks_after_three(client, db_session):
    profile = anna(db_session)
    vm.set_pin(db_session, None, profile, "394817")
    db_session.commit()
    path = "/api/v1/voicemail/pin-check"
    ok = signed_post(client, path, json_body={"number": ANNA_NUMBER, "pin": "394817"})
    assert ok.status_code == 200 and ok.json["ok"] is True
    for left in (2, 1):
        wrong = signed_post(client, path, json_body={"number": ANNA_NUMBER, "pin": "000000"})
        assert wrong.json == {"ok": False, "reason": "wrong", "attempts_left": left, "locked_until": None}
    locked = signed_post(client, path, json_body={"number": ANNA_NUMBER, "pin": "000000"})
    assert locked.json["ok"] is False and locked.json["reason"] == "locked" and locked.json["locked_until"]
    still = signed_post(client, path, json_body={"number": ANNA_NUMBER, "pin": "394817"})
    assert still.json["ok"] is False and still.json["reason"] == "locked"


def test_pin_check_errors(client):
    path = "/api/v1/voicemail/pin-check"
    assert signed_post(client, path, json_body={"number": "nope", "pin": "1"}).status_code == 422
    unknown = signed_post(client, path, json_body={"number": "+4930123456799", "pin": "394817"})
    assert unknown.status_code == 404 and unknown.json["error"] == "NotFound"
    assert signed_post(client, path, json_body={"number": ANNA_NUMBER, "pin": "1"}, secret="x").status_code == 401


@pytest.mark.parametrize("received_at", ["0001-01-01T00:00:00+05:00", "1970-01-01T00:00:00Z", "2999-01-01T00:00:00Z"])
def test_implausible_times_are_refused_naming_the_field(client, db_session, received_at):
    fields = deposit_fields("plat-time")
    fields["received_at"] = received_at
    response = signed_post(client, "/api/v1/voicemail/messages", fields=fields,
                           files={"audio": (tone("wav", 1.0), "message.wav")})
    assert response.status_code == 422 and response.json["field"] == "received_at"
    assert count(db_session, "plat-time") == 0


def test_odd_bodies_get_a_clear_json_refusal_never_a_500(client):
    pin_check = "/api/v1/voicemail/pin-check"
    for body in ([1, 2], "394817"):
        response = signed_post(client, pin_check, json_body=body)
        assert response.status_code == 422 and "JSON object" in response.json["message"]
    as_json = signed_post(client, "/api/v1/voicemail/messages", json_body={"called": ANNA_NUMBER})
    assert as_json.status_code == 415 and "multipart/form-data" in as_json.json["message"]
    huge = client.get("/api/v1/voicemail/greetings/99999999999999999999/audio",
                      headers={"Authorization": "Bearer test-platform-token"})
    assert huge.status_code in (401, 404)
    ts = str(int(time.time()))
    signed = client.get("/api/v1/voicemail/greetings/99999999999999999999/audio",
                        headers={platform.TIMESTAMP_HEADER: ts, platform.SIGNATURE_HEADER: platform.sign(SECRET, ts, b"")})
    assert signed.status_code == 404


def test_platform_fetches_greeting_audio_signed(client, db_session):
    from webapp.models import GreetingKind, GreetingSource

    profile = anna(db_session)
    draft = vm.create_draft(db_session, None, profile, GreetingKind.BUSY, GreetingSource.UPLOAD, data=tone("flac", 1.0))
    vm.activate_greeting(db_session, None, profile, draft.id)
    db_session.commit()
    ts = str(int(time.time()))
    headers = {platform.TIMESTAMP_HEADER: ts, platform.SIGNATURE_HEADER: platform.sign(SECRET, ts, b"")}
    path = f"/api/v1/voicemail/greetings/{draft.id}/audio"
    assert client.get(path).status_code == 401
    response = client.get(path, headers=headers)
    assert response.status_code == 200 and response.mimetype == "audio/wav"
    assert response.data[:4] == b"RIFF"
    draft = vm.create_draft(db_session, None, profile, GreetingKind.BUSY, GreetingSource.UPLOAD, data=tone("flac", 1.0))
    db_session.commit()
    assert client.get(f"/api/v1/voicemail/greetings/{draft.id}/audio", headers=headers).status_code == 404
