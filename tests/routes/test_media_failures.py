"""A store that refuses writes — a full or read-only disk, an object store that cannot be reached —
made to fail for real: the user is told so and nothing is stored."""

from __future__ import annotations

from io import BytesIO

import pytest
from sqlalchemy import func, select

from tests.conftest import HTMX
from tests.routes.test_api_voicemail import post_deposit
from tests.s3server import free_port
from tests.services.test_audio import tone
from tests.services.test_voicemail import anna
from webapp.models import GreetingKind, MailMessage, VoicemailMessage
from webapp.services import voicemail as vm


@pytest.fixture(params=["disk", "s3-unreachable"])
def app_config(request, tmp_path):
    if request.param == "disk":
        blocker = tmp_path / "not-a-folder"
        blocker.write_text("a regular file where the media folder should be")
        return {"MEDIA_STORAGE": "local", "MEDIA_ROOT": str(blocker / "media")}
    return {"MEDIA_STORAGE": "s3", "MEDIA_S3_BUCKET": "media", "MEDIA_S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
            "MEDIA_S3_REGION": "eu-central-1", "MEDIA_S3_TIMEOUT": 1}


@pytest.fixture(autouse=True)
def _credentials(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}.items():
        monkeypatch.setenv(name, value)


def test_greeting_upload_says_the_store_is_unavailable_and_stores_nothing(client, db_session, app_config):
    from tests.conftest import login

    profile = anna(db_session)
    as_anna = login(client, "anna.schmidt@muster.example")
    as_anna.post("/language", data={"lang": "en", "next": "/"})
    response = as_anna.post(f"/profiles/{profile.id}/voicemail/greetings/busy",
                            data={"source": "upload", "file": (BytesIO(tone("mp3", 1.0)), "ansage.mp3")},
                            headers=HTMX, content_type="multipart/form-data")
    assert response.status_code == 422
    expected = ("media storage is full or not writable" if app_config["MEDIA_STORAGE"] == "local"
                else "media storage cannot be reached")
    assert expected in response.text and "Nothing was saved" in response.text
    assert 'id="busy-file-errors"' in response.text
    db_session.expire_all()
    assert vm.greeting_slot(db_session, profile, GreetingKind.BUSY).draft is None


def test_deposit_is_a_503_the_platform_retries_and_nothing_is_stored(client, db_session):
    mails = db_session.scalar(select(func.count()).select_from(MailMessage))
    response = post_deposit(client, message_id="plat-store-down")
    assert response.status_code == 503
    assert response.json["error"] == "StorageUnavailable" and "Nothing was saved" in response.json["message"]
    assert db_session.scalar(select(func.count()).select_from(VoicemailMessage)
                             .where(VoicemailMessage.platform_message_id == "plat-store-down")) == 0
    assert db_session.scalar(select(func.count()).select_from(MailMessage)) == mails


def test_storage_error_is_never_a_500_when_playing(client, db_session):
    profile = anna(db_session)
    from tests.conftest import login

    as_anna = login(client, "anna.schmidt@muster.example")
    message = db_session.scalar(select(VoicemailMessage).where(VoicemailMessage.profile_id == profile.id))
    response = as_anna.get(f"/profiles/{profile.id}/voicemail/messages/{message.id}/download")
    assert response.status_code in {404, 503}  # the demo file is missing, or the store is away
    assert "Traceback" not in response.text
