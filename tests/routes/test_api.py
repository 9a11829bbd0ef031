"""The signed JSON API for the telephony platform (``/api/v1``)."""

from __future__ import annotations

import re
import time

import pytest

from webapp.services import platform

SECRET = "test-platform-secret"  # tests.conftest.test_config
TOKEN = "platform-test-token"


@pytest.fixture
def app_config():
    # CSRF on, as in production: the API is exempt and authenticates by signature or token.
    return {"PLATFORM_API_TOKEN": TOKEN, "WTF_CSRF_ENABLED": True}


def signed(body: bytes = b"", *, secret: str = SECRET, age: int = 0) -> dict:
    ts = str(int(time.time()) - age)
    return {platform.TIMESTAMP_HEADER: ts, platform.SIGNATURE_HEADER: platform.sign(secret, ts, body)}


def test_ping_with_a_good_signature(client):
    response = client.get("/api/v1/ping", headers=signed())
    assert response.status_code == 200
    assert response.is_json and response.json == {"ok": True}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        signed(secret="wrong-secret"),
        {platform.TIMESTAMP_HEADER: str(int(time.time()))},
        {platform.TIMESTAMP_HEADER: str(int(time.time())), platform.SIGNATURE_HEADER: "sha256=00"},
        {"Authorization": "Bearer wrong-token"},
    ],
    ids=["unsigned", "wrong-secret", "no-signature", "bad-signature", "wrong-token"],
)
def test_unauthenticated_calls_get_401_json(client, headers):
    response = client.get("/api/v1/ping", headers=headers)
    assert response.status_code == 401
    assert response.is_json
    assert response.json["error"] == "unauthorized"


def test_stale_timestamp_is_refused(client):
    response = client.get("/api/v1/ping", headers=signed(age=platform.MAX_CLOCK_SKEW + 60))
    assert response.status_code == 401
    assert response.json["error"] == "unauthorized"


def test_bearer_token(client):
    response = client.get("/api/v1/ping", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.json == {"ok": True}


def test_signature_covers_the_body(client):
    headers = signed(b'{"a":1}')
    response = client.get("/api/v1/ping", data=b'{"a":2}', headers=headers)
    assert response.status_code == 401


@pytest.mark.parametrize(("method", "path", "status"), [("POST", "/api/v1/ping", 405),
                                                      ("GET", "/api/v1/no-such-call", 404)])
def test_api_errors_are_json_not_html(client, method, path, status):
    response = client.open(path, method=method, headers=signed())
    assert response.status_code == status
    assert response.is_json and response.json["error"]


def test_a_portal_session_is_not_enough(client):
    token = re.search(r'"X-CSRFToken": "([^"]+)"', client.get("/login").text).group(1)
    signed_in = client.post("/login", data={"email": "admin@muster.example", "password": "demo-admin-2026"},
                            headers={"X-CSRFToken": token})
    assert signed_in.status_code == 302
    assert client.get("/api/v1/ping").status_code == 401
