"""Input at the edge, replays, the audit of an administrator's listening, the Dev-Postfach and
the configuration (issue 7 points 1, 3, 6, 8, 9 and the audit entry)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from tests.conftest import HTMX, login
from tests.routes.test_api_voicemail import SECRET, signed_post
from tests.services.test_audio import tone
from tests.services.test_voicemail import ANNA_NUMBER, anna, deposit
from webapp.models import AuditEntry, VoicemailGreeting
from webapp.services import platform
from webapp.services import voicemail as vm

NUL_MESSAGE = "Steuerzeichen"


def _errors_of(html: str, field: str) -> str:
    import re

    match = re.search(rf'id="{field}-errors"[^>]*>(.*?)</', html, re.S)
    return match.group(1).strip() if match else ""


def test_a_nul_byte_in_a_form_field_is_refused_next_to_it_and_nothing_is_stored(client, db_session):
    profile = anna(db_session)
    login(client, "anna.schmidt@muster.example")
    before = db_session.scalar(select(func.count()).select_from(VoicemailGreeting))
    response = client.post(f"/profiles/{profile.id}/voicemail/greetings/busy",
                           data={"source": "tts", "text": "Hallo\x00Welt"}, headers=HTMX)
    assert response.status_code == 422
    assert NUL_MESSAGE in _errors_of(response.text, "busy-text")
    assert db_session.scalar(select(func.count()).select_from(VoicemailGreeting)) == before


@pytest.mark.parametrize("value", ["Max\x00", "Max\x1b[31m", "Ma\x7fx"])
def test_control_characters_are_refused_in_any_form(client, db_session, value):
    login(client, "admin@muster.example")
    profile = anna(db_session)
    response = client.post(f"/ums/profiles/{profile.id}", data={"last_name": "Schmidt", "first_name": value},
                           headers=HTMX)
    assert response.status_code == 422
    assert NUL_MESSAGE in _errors_of(response.text, "first_name")
    db_session.expire_all()
    assert anna(db_session).first_name == "Anna"


def test_tabs_and_line_breaks_stay_allowed(client, db_session):
    from webapp.inputs import has_control_characters

    assert not has_control_characters("Zeile 1\r\nZeile 2\tTab – äöü €")
    assert has_control_characters("a\x00b") and has_control_characters("\x85")


def test_api_refuses_deep_json_and_control_characters_as_json_422(client):
    path = "/api/v1/voicemail/pin-check"
    deep = b"[" * 5000 + b'"x"' + b"]" * 5000
    ts = str(int(time.time()))
    response = client.post(path, data=deep, content_type="application/json", headers={
        platform.TIMESTAMP_HEADER: ts, platform.SIGNATURE_HEADER: platform.sign(SECRET, ts, deep)})
    assert response.status_code == 422 and response.is_json and "nested" in response.json["message"]
    nul = signed_post(client, path, json_body={"number": ANNA_NUMBER, "pin": "39\x004817"})
    assert nul.status_code == 422 and "control characters" in nul.json["message"]
    form = signed_post(client, "/api/v1/voicemail/messages",
                       fields={"called": ANNA_NUMBER + "\x00", "platform_message_id": "x"})
    assert form.status_code == 422 and form.json["field"] == "called"


def test_api_answers_json_for_unknown_paths_and_methods(client):
    headers = {"Authorization": "Bearer t"}
    assert client.get("/api/v1/nothing-here", headers=headers).is_json
    assert client.delete("/api/v1/ping", headers=headers).is_json


def test_a_signed_request_is_accepted_once(client):
    ts = str(int(time.time()))
    headers = {platform.TIMESTAMP_HEADER: ts, platform.SIGNATURE_HEADER: platform.sign(SECRET, ts, b"")}
    first = client.get("/api/v1/ping", headers=headers)
    second = client.get("/api/v1/ping", headers=headers)
    assert first.status_code == 200
    assert second.status_code == 409 and second.json["error"] == "replayed"


def test_a_replayed_wrong_pin_check_counts_nothing(client, db_session):
    from tests.services.test_voicemail import settings_input  # noqa: F401

    profile = anna(db_session)
    user = profile.user
    vm.set_pin(db_session, user, profile, "394817")
    db_session.commit()
    ts = str(int(time.time()))
    body = {"number": ANNA_NUMBER, "pin": "000000"}
    wrong = signed_post(client, "/api/v1/voicemail/pin-check", json_body=body, ts=ts)
    assert wrong.json["attempts_left"] == 2
    for _ in range(3):
        replay = signed_post(client, "/api/v1/voicemail/pin-check", json_body=body, ts=ts)
        assert replay.status_code == 409
    fresh = signed_post(client, "/api/v1/voicemail/pin-check", json_body={"number": ANNA_NUMBER, "pin": "394817"})
    assert fresh.json["ok"] is True  # not locked by the replays


def test_replays_are_refused_across_clients_by_the_database(app, db_session):
    from webapp.services.platform import accept_once

    key = f"POST /api/v1/ping? {platform.sign(SECRET, '1', b'{}')}"
    assert accept_once(db_session, key) is True
    assert accept_once(db_session, key) is False


def test_an_admin_playing_or_downloading_a_users_message_is_in_the_audit_trail(client, db_session):
    profile = anna(db_session)
    message = deposit(db_session, data=tone("wav", 1.0), message_id="audit-listen-1")
    db_session.commit()

    def entries(action):
        return db_session.scalars(select(AuditEntry).where(AuditEntry.action == action,
                                                           AuditEntry.profile_id == profile.id)).all()

    login(client, "anna.schmidt@muster.example")
    assert client.get(f"/profiles/{profile.id}/voicemail/messages/{message.id}/audio").status_code == 200
    assert entries("voicemail.message_played") == []  # the owner listening is no event

    admin = client.application.test_client()
    login(admin, "admin@muster.example")
    url = f"/profiles/{profile.id}/voicemail/messages/{message.id}"
    assert admin.get(url + "/audio").status_code == 200
    assert admin.get(url + "/audio", headers={"Range": "bytes=0-99"}).status_code == 206
    assert admin.get(url + "/download").status_code == 200
    db_session.expire_all()
    [played] = entries("voicemail.message_played")
    [downloaded] = entries("voicemail.message_downloaded")
    assert played.actor_email == "admin@muster.example" and played.detail["message_id"] == message.id
    assert downloaded.detail["message_id"] == message.id
    trail = admin.get("/ums/audit")
    assert "Sprachnachricht von einem Administrator abgespielt" in trail.text


def test_dev_mailbox_is_off_unless_asked_for(monkeypatch):
    from webapp.config import from_environment

    monkeypatch.delenv("DEV_MAILBOX", raising=False)
    monkeypatch.delenv("PRODUCTION", raising=False)
    assert from_environment()["DEV_MAILBOX"] is False
    monkeypatch.setenv("DEV_MAILBOX", "1")
    assert from_environment()["DEV_MAILBOX"] is True


def test_when_on_every_page_says_it_is_a_development_tool(client):
    for url in ("/login", "/no-such-page"):
        assert "Entwicklungswerkzeug" in client.get(url).text


def test_public_base_url_follows_port(monkeypatch):
    from webapp.config import from_environment

    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.setenv("PORT", "8000")
    assert from_environment()["PUBLIC_BASE_URL"] == "http://127.0.0.1:8000"
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://ums.example")
    assert from_environment()["PUBLIC_BASE_URL"] == "https://ums.example"


def test_every_page_carries_the_toast_texts_for_server_and_network_errors(client):
    page = client.get("/login").text
    assert 'data-error-toast="Bei uns ist etwas schiefgegangen' in page
    assert "data-offline-toast=" in page
