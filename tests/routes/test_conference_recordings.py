"""Recordings: deposited over the signed API only when the room allows it (once per platform id),
listed, played with HTTP Range, downloaded as WAV, deleted with undo; other users get 404."""

from __future__ import annotations

import io
import wave

import pytest
from sqlalchemy import func, select

from tests.conftest import HTMX, login
from tests.routes.test_api_voicemail import signed_post
from tests.services.test_audio import tone
from tests.services.test_conference import ANNA_CONF, max_with_room, owner, profile, settings
from webapp.models import ConferenceRecording
from webapp.services import storage
from webapp.services.conference import recordings
from webapp.services.conference import room as rooms


def allow(db_session, p, allowed: bool = True) -> None:
    rooms.update_settings(db_session, owner(db_session, p), p, settings(allow_recording=allowed))


def post_recording(client, recording_id: str = "rec-1", secret: str | None = None, audio: bytes | None = None):
    return signed_post(client, "/api/v1/conference/recordings",
                       fields={"called": ANNA_CONF, "platform_recording_id": recording_id,
                               "started_at": "2026-11-30T10:00:00+01:00"},
                       files={"audio": (audio if audio is not None else tone("ogg-opus", 3.0), "rec.ogg")},
                       **({"secret": secret} if secret else {}))


def count(db_session, recording_id: str) -> int:
    return db_session.scalar(select(func.count()).select_from(ConferenceRecording)
                             .where(ConferenceRecording.platform_recording_id == recording_id))


def test_deposit_only_when_allowed_and_once(client, db_session):
    anna = profile(db_session)
    allow(db_session, anna, False)
    refused = post_recording(client)
    assert refused.status_code == 409 and "does not allow recording" in refused.json["message"]
    assert count(db_session, "rec-1") == 0
    allow(db_session, anna)
    first = post_recording(client)
    assert first.status_code == 201 and first.json["created"] is True
    assert 2900 <= first.json["duration_ms"] <= 3100
    again = post_recording(client)
    assert again.status_code == 200 and again.json["created"] is False and count(db_session, "rec-1") == 1


def test_deposit_with_a_wrong_signature_or_bad_audio_is_refused(client, db_session):
    allow(db_session, profile(db_session))
    assert post_recording(client, "rec-sig", secret="wrong").status_code == 401
    bad = post_recording(client, "rec-bad", audio=b"not audio at all")
    assert bad.status_code == 422 and bad.json["field"] == "audio"
    assert count(db_session, "rec-sig") == 0 and count(db_session, "rec-bad") == 0


@pytest.fixture
def recording(db_session):
    anna = profile(db_session)
    allow(db_session, anna)
    found = recordings.deposit_generated(db_session, ANNA_CONF, data=tone("wav", 2.0))
    db_session.commit()  # the staged file moves into place
    return found


def test_list_play_with_range_download_delete_and_undo(client, db_session, recording):
    anna = profile(db_session)
    login(client, "anna.schmidt@muster.example")
    base = f"/profiles/{anna.id}/conference/recordings"
    page = client.get(base)
    assert page.status_code == 200 and f'id="rec-{recording.id}"' in page.text and "0:02" in page.text
    partial = client.get(base, headers=HTMX)
    assert partial.text.lstrip().startswith('<section id="conf-recordings"')
    ranged = client.get(f"{base}/{recording.id}/audio", headers={"Range": "bytes=0-99"})
    assert ranged.status_code == 206 and len(ranged.data) == 100 and ranged.data[:4] == b"RIFF"
    whole = client.get(f"{base}/{recording.id}/download")
    assert whole.status_code == 200 and "attachment" in whole.headers["Content-Disposition"]
    with wave.open(io.BytesIO(whole.data)) as wav:
        assert (wav.getframerate(), wav.getnchannels()) == (8000, 1)
    deleted = client.post(f"{base}/{recording.id}/delete", headers=HTMX)
    assert deleted.status_code == 200 and f'id="rec-{recording.id}"' not in deleted.text
    assert "Rückgängig" in deleted.text
    assert client.get(f"{base}/{recording.id}/audio").status_code == 404
    restored = client.post(f"{base}/restore", data={"ids": str(recording.id)}, headers=HTMX)
    assert restored.status_code == 200 and f'id="rec-{recording.id}"' in restored.text
    assert storage.exists(recording.audio_key)


def test_recordings_of_another_profile_are_refused(client, db_session, recording):
    max_ = max_with_room(db_session)
    login(client, "max.mueller@muster.example", "demo-user-2026")
    anna = profile(db_session)
    assert client.get(f"/profiles/{anna.id}/conference/recordings/{recording.id}/audio").status_code == 404
    assert client.get(f"/profiles/{max_.id}/conference/recordings/{recording.id}/audio").status_code == 404
    assert client.post(f"/profiles/{max_.id}/conference/recordings/{recording.id}/delete").status_code == 404


def test_the_demo_recording_is_listed_and_plays(client, db_session):
    anna = profile(db_session)
    (demo,) = recordings.list_recordings(db_session, anna).items
    login(client, "anna.schmidt@muster.example")
    assert f'id="rec-{demo.id}"' in client.get(f"/profiles/{anna.id}/conference/recordings").text
    played = client.get(f"/profiles/{anna.id}/conference/recordings/{demo.id}/audio")
    assert played.status_code == 200 and played.mimetype == "audio/wav" and played.data[:4] == b"RIFF"


def test_deleting_the_profile_removes_room_meetings_and_recording_files(db_session, recording):
    from webapp.models import ConferenceMeeting, ConferencePin, ConferenceRoom, User
    from webapp.services import profiles

    anna = profile(db_session)
    anna_id, key = anna.id, recording.audio_key
    assert storage.exists(key)
    admin = db_session.scalar(select(User).where(User.email == "admin@muster.example"))
    profiles.delete_profile(db_session, admin, anna)
    db_session.commit()
    assert not storage.exists(key)
    for model in (ConferenceRoom, ConferencePin, ConferenceMeeting, ConferenceRecording):
        assert db_session.scalar(select(func.count()).select_from(model).where(model.profile_id == anna_id)) == 0


class TestStoreDown:
    """A media folder that cannot be written (a file stands where it should be), for real."""

    @pytest.fixture
    def app_config(self, tmp_path):
        blocker = tmp_path / "not-a-folder"
        blocker.write_text("a regular file where the media folder should be")
        return {"MEDIA_STORAGE": "local", "MEDIA_ROOT": str(blocker / "media")}

    def test_a_deposit_is_a_503_the_platform_retries_and_nothing_is_stored(self, client, db_session):
        allow(db_session, profile(db_session))
        db_session.commit()
        response = post_recording(client, "rec-store-down")
        assert response.status_code == 503 and response.json["error"] == "StorageUnavailable"
        assert count(db_session, "rec-store-down") == 0

    def test_playing_a_recording_whose_file_is_gone_is_404_not_500(self, client, db_session):
        anna = profile(db_session)
        (demo,) = recordings.list_recordings(db_session, anna).items
        login(client, "anna.schmidt@muster.example")
        response = client.get(f"/profiles/{anna.id}/conference/recordings/{demo.id}/audio")
        assert response.status_code == 404
