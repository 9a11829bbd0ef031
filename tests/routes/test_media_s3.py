"""With MEDIA_STORAGE=s3 no file lands on the web node: deposits, greetings, MP3 copies and
playback all go through the object store (whatever MEDIA_STORAGE the run uses)."""

from __future__ import annotations

import uuid
from io import BytesIO

import pytest

from tests.conftest import HTMX, login
from tests.routes.test_api_voicemail import post_deposit
from tests.s3server import BUCKET
from tests.services.test_audio import tone
from tests.services.test_voicemail import anna
from webapp.models import GreetingKind, VoicemailMessage
from webapp.services import voicemail as vm


@pytest.fixture
def prefix() -> str:
    return f"s3only-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def app_config(s3_server, prefix, tmp_path):
    return {**s3_server.config(prefix), "MEDIA_ROOT": str(tmp_path / "must-stay-empty")}


def test_everything_goes_through_the_object_store(client, db_session, s3_server, prefix, tmp_path):
    profile = anna(db_session)
    deposited = post_deposit(client, audio=tone("wav", 1.0), message_id="plat-s3-only")
    assert deposited.status_code == 201, deposited.json
    message_id = deposited.json["id"]

    login(client, "anna.schmidt@muster.example")
    base = f"/profiles/{profile.id}/voicemail"
    part = client.get(f"{base}/messages/{message_id}/audio", headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and len(part.data) == 10 and part.mimetype == "audio/mpeg"
    upload = client.post(f"{base}/greetings/busy", headers=HTMX, content_type="multipart/form-data",
                         data={"source": "upload", "file": (BytesIO(tone("flac", 1.0)), "ansage.flac")})
    assert upload.status_code == 200, upload.text
    draft = vm.greeting_slot(db_session, profile, GreetingKind.BUSY).draft
    assert client.get(f"{base}/greetings/{draft.id}/audio").status_code == 200

    keys = {o["Key"][len(prefix) + 1:] for o in
            s3_server.client().list_objects_v2(Bucket=BUCKET, Prefix=prefix + "/").get("Contents", [])}
    stem = db_session.get(VoicemailMessage, message_id).audio_key.rsplit(".", 1)[0]
    assert {f"{stem}.wav", f"{stem}.mp3", draft.audio_key} <= keys  # the WAV, its MP3 copy, the greeting
    assert not (tmp_path / "must-stay-empty").exists()
