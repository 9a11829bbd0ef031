"""``flask media migrate``: the local folder into the object store, verified and resumable."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from tests.s3server import BUCKET
from tests.services.test_audio import tone


@pytest.fixture
def prefix() -> str:
    return f"mig-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def app_config(s3_server, prefix):
    return s3_server.config(prefix)


@pytest.fixture
def old_media(tmp_path):
    folder = tmp_path / "old-media"
    files = {
        "voicemail/1/messages/a.wav": tone("wav", 1.0),
        "voicemail/1/messages/a.mp3": tone("mp3", 1.0),
        "voicemail/2/greetings/b.wav": tone("wav", 0.5),
        "fax/3/c.pdf": b"%PDF-1.4 test",
    }
    for key, data in files.items():
        (folder / key).parent.mkdir(parents=True, exist_ok=True)
        (folder / key).write_bytes(data)
    # leftovers of interrupted writes are not media
    (folder / ".staging/voicemail/1/messages").mkdir(parents=True)
    (folder / ".staging/voicemail/1/messages/x.wav.0123456789ab.tmp").write_bytes(b"half")
    (folder / "voicemail/1/messages/.a.wav.1234.part").write_bytes(b"half")
    return folder, files


def stored(s3_server, prefix) -> dict[str, bytes]:
    client = s3_server.client()
    listing = client.list_objects_v2(Bucket=BUCKET, Prefix=prefix + "/").get("Contents", [])
    return {o["Key"][len(prefix) + 1:]: client.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read() for o in listing}


def test_migrate_copies_verifies_and_resumes(runner, s3_server, prefix, old_media):
    folder, files = old_media
    result = runner.invoke(args=["media", "migrate", "--from", str(folder)])
    assert result.exit_code == 0, result.output
    assert "4 copied and verified, 0 already there, 0 failed" in result.output
    assert stored(s3_server, prefix) == files

    # an interrupted run: one file never arrived, one arrived damaged
    client = s3_server.client()
    client.delete_object(Bucket=BUCKET, Key=f"{prefix}/fax/3/c.pdf")
    client.put_object(Bucket=BUCKET, Key=f"{prefix}/voicemail/2/greetings/b.wav", Body=b"truncated")
    check = runner.invoke(args=["media", "migrate", "--from", str(folder), "--verify-only"])
    assert check.exit_code == 1
    assert "2 files verified in the store, 2 missing or different" in check.output
    assert "missing or different: fax/3/c.pdf" in check.output

    again = runner.invoke(args=["media", "migrate", "--from", str(folder)])
    assert again.exit_code == 0, again.output
    assert "2 copied and verified, 2 already there, 0 failed" in again.output
    assert stored(s3_server, prefix) == files
    head = client.head_object(Bucket=BUCKET, Key=f"{prefix}/voicemail/2/greetings/b.wav")
    assert head["Metadata"]["sha256"] == hashlib.sha256(files["voicemail/2/greetings/b.wav"]).hexdigest()


def test_migrate_refuses_to_copy_a_folder_onto_itself(runner, app, tmp_path):
    app.config.update(MEDIA_STORAGE="local")
    app.extensions.pop("media_storage", None)
    result = runner.invoke(args=["media", "migrate"])
    assert result.exit_code != 0 and "MEDIA_STORAGE=s3" in result.output
