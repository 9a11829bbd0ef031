"""The media store (local folder, or the S3 server with ``MEDIA_STORAGE=s3``): writes tied to the
transaction, streaming reads, Range, the sweep."""

from __future__ import annotations

import wave
from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.exceptions import RequestedRangeNotSatisfiable

from tests.services.test_audio import tone
from webapp.services import storage

LATER = datetime.now(UTC) + timedelta(hours=3)  # the sweep's "now" once the grace period is over


def staged_leftovers() -> list[str]:
    return [e.key for e in storage.backend().list(storage.STAGING)]


def test_staged_file_is_visible_only_after_commit(db_session):
    key = storage.new_key("test/stage", ".bin")
    assert storage.stage(db_session, key, b"hello" * 1000) == key
    assert not storage.exists(key)
    db_session.commit()
    assert storage.read(key) == b"hello" * 1000
    assert staged_leftovers() == []


def test_rollback_removes_the_staged_file(db_session):
    key = storage.new_key("test/stage", ".bin")
    storage.stage(db_session, key, b"x")
    assert len(staged_leftovers()) == 1
    db_session.rollback()
    assert not storage.exists(key) and staged_leftovers() == []


def test_savepoint_rollback_removes_only_what_was_staged_inside_it(db_session):
    outer = storage.stage(db_session, storage.new_key("test/stage", ".bin"), b"outer")
    with pytest.raises(RuntimeError), db_session.begin_nested():
        inner = storage.stage(db_session, storage.new_key("test/stage", ".bin"), b"inner")
        raise RuntimeError("refused")
    kept = storage.stage(db_session, storage.new_key("test/stage", ".bin"), b"kept")
    with db_session.begin_nested():
        committed_inside = storage.stage(db_session, storage.new_key("test/stage", ".bin"), b"nested")
    assert not storage.exists(committed_inside)  # a savepoint is not the commit
    db_session.commit()
    assert [storage.exists(k) for k in (outer, inner, kept, committed_inside)] == [True, False, True, True]
    assert staged_leftovers() == []


def test_a_session_closed_without_commit_leaves_nothing(app):
    from webapp.extensions import db

    session = db.new_session()
    key = storage.stage(session, storage.new_key("test/stage", ".bin"), b"x")
    session.close()
    assert not storage.exists(key) and staged_leftovers() == []


def test_open_streams_a_wav_the_decoder_reads(db_session):
    key = storage.stage(db_session, storage.new_key("test/audio", ".wav"), tone("wav", 1.0))
    db_session.commit()
    with storage.open(key) as stream, wave.open(stream, "rb") as wav:
        assert wav.getnframes() == pytest.approx(wav.getframerate(), rel=0.05)


def test_keys_outside_the_store_are_refused(app):
    for key in ("../etc/passwd", "/etc/passwd", ".staging/x", "a//b", "a/../../b"):
        with pytest.raises(storage.StorageError):
            storage.check_key(key)
    assert not storage.exists("../etc/passwd")


def test_serve_honours_range_and_conditional_requests(app):
    data = bytes(range(256)) * 40
    key = storage.save(storage.new_key("test/serve", ".bin"), data)
    with app.test_request_context(headers={"Range": "bytes=100-199"}):
        part = storage.serve(key, "application/octet-stream")
        part.direct_passthrough = False
        assert part.status_code == 206
        assert part.headers["Content-Range"] == f"bytes 100-199/{len(data)}"
        assert part.get_data() == data[100:200]
    with app.test_request_context():
        whole = storage.serve(key, "audio/wav", download_name="nachricht.wav", as_attachment=True)
        whole.direct_passthrough = False
        assert whole.status_code == 200 and whole.get_data() == data
        assert whole.headers["Accept-Ranges"] == "bytes" and "nachricht.wav" in whole.headers["Content-Disposition"]
        etag = whole.headers["ETag"]
    with app.test_request_context(headers={"If-None-Match": etag}):
        assert storage.serve(key, "audio/wav").status_code == 304
    with app.test_request_context(headers={"Range": f"bytes={len(data) + 10}-"}), \
            pytest.raises(RequestedRangeNotSatisfiable):
        storage.serve(key, "audio/wav")
    with pytest.raises(storage.StorageError), app.test_request_context():
        storage.serve("test/serve/missing.bin", "audio/wav")


def test_sweep_removes_orphans_and_stale_temporaries_and_keeps_what_rows_use(db_session):
    from webapp.models import VoicemailMessage

    used = db_session.query(VoicemailMessage).first()
    derived = used.audio_key.rsplit(".", 1)[0] + ".mp3"  # a cached MP3 copy of a stored message
    storage.save(derived, b"mp3")
    orphan = storage.save(storage.new_key("voicemail/1/messages", ".wav"), b"left behind")
    unmanaged = storage.save(storage.new_key("elsewhere/1", ".pdf"), b"kept by an area the sweep does not know")
    # an interrupted request: staged, never committed (the process died before its rollback ran)
    stale = storage.staging_key(storage.new_key("voicemail/1/messages", ".wav"))
    storage.backend().put(stale, b"half")
    # the process died between the row's commit and the move: the sweep finishes the move
    committed_key = storage.new_key("voicemail/1/greetings", ".wav")
    storage.backend().put(storage.staging_key(committed_key), b"greeting")
    used.playback_key = committed_key
    db_session.flush()

    fresh = storage.sweep(db_session)  # within the grace period nothing goes; the committed move is finished
    assert (fresh.orphans, fresh.temporaries, fresh.completed) == (0, 0, 1)
    assert storage.exists(orphan) and len(staged_leftovers()) == 1
    result = storage.sweep(db_session, now=LATER)
    assert (result.orphans, result.temporaries, result.completed) == (1, 1, 0)
    assert not storage.exists(orphan)
    assert storage.exists(unmanaged)  # only prefixes of areas whose rows name every file are swept
    assert storage.exists(used.audio_key) and storage.exists(derived)
    assert storage.read(committed_key) == b"greeting"
    assert staged_leftovers() == []


def test_sweep_command(runner, db_session):
    orphan = storage.save(storage.new_key("voicemail/1/messages", ".wav"), b"left behind")
    result = runner.invoke(args=["media", "sweep", "--grace-minutes", "0"])
    assert result.exit_code == 0, result.output
    assert "1 files no row refers to" in result.output
    assert not storage.exists(orphan)


def test_the_selected_store_is_the_one_in_use(app):
    from tests.s3server import s3_selected

    assert storage.backend().name == ("s3" if s3_selected() else "local")


def test_the_consumers_sweep_every_hour(app):
    from webapp.services import media_jobs

    task = media_jobs.sweep_media
    periodic = task.task_class()
    assert periodic.validate_datetime(datetime(2026, 12, 6, 3, 17))
    assert not periodic.validate_datetime(datetime(2026, 12, 6, 3, 18))
    orphan = storage.save(storage.new_key("voicemail/1/messages", ".wav"), b"left behind")
    app.config["MEDIA_SWEEP_GRACE_MINUTES"] = 0
    assert task.call_local() == {"orphans": 1, "temporaries": 0, "completed": 0}
    assert not storage.exists(orphan)


def test_a_reader_finishes_the_move_a_dead_process_left_undone(app, db_session):
    # the process committed the row and died before moving the file into place
    key = storage.new_key("voicemail/1/messages", ".wav")
    storage.backend().put(storage.staging_key(key), tone("wav", 0.5))
    assert storage.exists(key)  # the reader sees the committed row: the move is finished for it
    assert staged_leftovers() == []
    with storage.open(key) as stream, wave.open(stream, "rb") as wav:
        assert wav.getnframes() > 0


def test_a_reader_leaves_a_temporary_of_this_process_alone(db_session):
    key = storage.stage(db_session, storage.new_key("voicemail/1/messages", ".wav"), b"not yet")
    assert not storage.exists(key)  # staged in a transaction still open: not the reader's to finish
    with pytest.raises(storage.StorageError):
        storage.read(key)
    db_session.rollback()
    assert staged_leftovers() == []


def test_sweep_keeps_every_fax_and_recording_file_and_removes_their_orphans(db_session):
    """Fax pages, previews, TIFFs, reports and conference recordings are all named by rows, so their
    areas are swept too: the demo's files stay, a file no row names goes."""
    stored = [e.key for e in storage.backend().list() if e.key.startswith(("fax/", "conference/"))]
    assert stored  # the demo has received and sent faxes and a recording
    orphans = [storage.save(storage.new_key("fax/1/received", ".pdf"), b"left behind"),
               storage.save(storage.new_key("conference/1/recordings", ".wav"), b"left behind")]
    result = storage.sweep(db_session, now=LATER)
    assert result.orphans == 2
    assert not any(storage.exists(key) for key in orphans)
    from webapp.models import ConferenceRecording, ReceivedFax, SentFax

    for fax in db_session.query(ReceivedFax):
        assert storage.exists(f"{fax.media_prefix}/thumb.png")
        assert all(storage.exists(f"{fax.media_prefix}/page-{n}.png") for n in range(1, fax.pages + 1))
    for fax in db_session.query(SentFax):
        assert fax.tiff_key is None or storage.exists(fax.tiff_key)
    for recording in db_session.query(ConferenceRecording):
        assert storage.exists(recording.audio_key)
    assert all(storage.exists(key) for key in stored)
