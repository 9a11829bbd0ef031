"""Voicemail service: settings rules, PIN rules and lock, greetings, messages, deposits, notification."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, func, select

from tests.services.test_audio import tone
from webapp.models import (
    GreetingKind,
    GreetingSource,
    GreetingStatus,
    MailMessage,
    PlatformEvent,
    Service,
    ServiceAssignment,
    UmsProfile,
    User,
    VoicemailMessage,
    VoicemailMode,
    utcnow,
)
from webapp.services import storage, tts
from webapp.services import voicemail as vm
from webapp.services.errors import NotFound, ValidationFailed

ANNA_NUMBER = "+4930123456711"
MAX_NUMBER = "+4930123456720"


def anna(session) -> UmsProfile:
    return session.scalar(select(UmsProfile).where(UmsProfile.email_normalized == "anna.schmidt@muster.example"))


def profile_by_email(session, email: str) -> UmsProfile:
    return session.scalar(select(UmsProfile).where(UmsProfile.email_normalized == email))


def deposit(session, number: str = ANNA_NUMBER, *, message_id: str | None = None, caller: str | None = "+4940123456789",
            received_at: datetime | None = None, data: bytes | None = None) -> VoicemailMessage:
    """A real deposit with a short tone (the platform's path, without HTTP)."""
    import secrets

    message, _created = vm.deposit(session, vm.DepositInput(
        called=number, caller=caller, received_at=received_at.isoformat() if received_at else None,
        platform_message_id=message_id or f"test-{secrets.token_hex(6)}", audio=data or tone("wav", 1.0),
    ))
    session.commit()  # as the platform's request does: the file is in place once the row commits
    return message


def settings_input(**changes) -> vm.SettingsInput:
    values = dict(enabled=True, answer_immediately=False, answer_after_seconds=20, mode=VoicemailMode.RECORD,
                  max_message_seconds=120, notify_email=False, notify_address=None, attach_audio=False,
                  delete_after_send=False)
    values.update(changes)
    return vm.SettingsInput(**values)


@pytest.fixture
def profile(db_session):
    return anna(db_session)


@pytest.fixture
def user(db_session, profile):
    return db_session.get(User, profile.user_id)


# --- settings ---------------------------------------------------------------------------------


def test_settings_are_saved_and_told_to_the_platform(db_session, profile, user):
    vm.update_settings(db_session, user, profile, settings_input(answer_immediately=True, mode=VoicemailMode.ANNOUNCE_ONLY,
                                                                 max_message_seconds=300))
    event_row = db_session.scalars(select(PlatformEvent).where(PlatformEvent.kind == "voicemail.settings_changed")
                                   .order_by(PlatformEvent.id.desc())).first()
    assert event_row.payload["number"] == ANNA_NUMBER
    assert event_row.payload["answer_after_seconds"] == 0
    assert event_row.payload["mode"] == "announce_only"
    assert event_row.payload["max_message_seconds"] == 300


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"answer_after_seconds": 4}, "answer_after_seconds"),
        ({"answer_after_seconds": 61}, "answer_after_seconds"),
        ({"max_message_seconds": 29}, "max_message_seconds"),
        ({"max_message_seconds": 301}, "max_message_seconds"),
        ({"delete_after_send": True, "notify_email": True, "attach_audio": False}, "delete_after_send"),
        ({"delete_after_send": True, "notify_email": False, "attach_audio": True}, "delete_after_send"),
    ],
)
def test_settings_out_of_range_or_delete_without_attachment_are_refused(db_session, profile, user, changes, field):
    with pytest.raises(ValidationFailed) as refused:
        vm.update_settings(db_session, user, profile, settings_input(**changes))
    assert refused.value.field == field


def test_delete_after_send_with_notification_and_attachment_is_allowed(db_session, profile, user):
    saved = vm.update_settings(db_session, user, profile, settings_input(
        notify_email=True, attach_audio=True, delete_after_send=True, notify_address="zentrale@muster.example"))
    assert saved.delete_after_send
    assert vm.notify_address(saved, profile) == "zentrale@muster.example"


# --- PIN --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pin", "reason"),
    [
        ("12345", "6 to 10 digits"),
        ("12345678901", "6 to 10 digits"),
        ("12a456", "6 to 10 digits"),
        ("111111", "repeat one digit"),
        ("123456", "run of digits"),
        ("987654", "run of digits"),
        ("3456789012"[:7], "run of digits"),
        ("121212", "short pattern"),
        ("458458", "short pattern"),
        ("3456711", "part of your phone number"),  # the end of +49 30 1234567-11
        ("1234567", "run of digits"),
        ("301234", "part of your phone number"),
        ("３９４８１７", "6 to 10 digits"),  # full-width digits: no phone keypad can type them
        ("٣٩٤٨١٧", "6 to 10 digits"),  # Arabic-Indic digits, likewise
    ],
)
def test_pin_rules(pin, reason):
    problem = vm.pin_problem(pin, ANNA_NUMBER)
    assert problem is not None and reason in str(problem)


@pytest.mark.parametrize("pin", ["394817", "2580147", "8301927465"])
def test_good_pins_pass(pin):
    assert vm.pin_problem(pin, ANNA_NUMBER) is None


def test_pin_is_stored_hashed_and_checks(db_session, profile, user):
    vm.set_pin(db_session, user, profile, "394817")
    settings = vm.settings_of(db_session, profile)
    assert settings.pin_hash and "394817" not in settings.pin_hash
    assert vm.check_pin(db_session, ANNA_NUMBER, "394817").ok
    with pytest.raises(ValidationFailed):
        vm.set_pin(db_session, user, profile, "123456")


def test_three_wrong_pins_lock_phone_access_for_15_minutes_and_mail_the_owner(db_session, profile, user):
    vm.set_pin(db_session, user, profile, "394817")
    now = utcnow()
    first = vm.check_pin(db_session, ANNA_NUMBER, "000001", now=now)
    second = vm.check_pin(db_session, ANNA_NUMBER, "000002", now=now)
    assert (first.ok, first.attempts_left, second.attempts_left) == (False, 2, 1)
    third = vm.check_pin(db_session, ANNA_NUMBER, "000003", now=now)
    assert third.reason == "locked" and third.locked_until == now + timedelta(minutes=15)

    # Locked: even the right PIN is refused until the 15 minutes are over.
    assert not vm.check_pin(db_session, ANNA_NUMBER, "394817", now=now + timedelta(minutes=14)).ok
    assert vm.check_pin(db_session, ANNA_NUMBER, "394817", now=now + timedelta(minutes=15, seconds=1)).ok

    mails = db_session.scalars(select(MailMessage).where(MailMessage.recipient == profile.email)
                               .order_by(MailMessage.id.desc())).all()
    assert "locked" in mails[0].subject.lower() or "gesperrt" in mails[0].subject.lower()
    assert "15" in mails[0].body_text


def test_a_right_pin_resets_the_count_of_wrong_ones(db_session, profile, user):
    vm.set_pin(db_session, user, profile, "394817")
    vm.check_pin(db_session, ANNA_NUMBER, "000001")
    vm.check_pin(db_session, ANNA_NUMBER, "000002")
    assert vm.check_pin(db_session, ANNA_NUMBER, "394817").ok
    assert vm.check_pin(db_session, ANNA_NUMBER, "000003").attempts_left == 2


def test_pin_check_without_pin_or_for_unknown_number(db_session):
    assert vm.check_pin(db_session, MAX_NUMBER, "394817").reason == "no_pin"
    with pytest.raises(NotFound):
        vm.check_pin(db_session, "+4930123456799", "394817")


# --- greetings --------------------------------------------------------------------------------


def test_greeting_is_a_draft_until_activated_and_replaces_the_old_one(db_session, profile, user):
    old = vm.greeting_slot(db_session, profile, GreetingKind.UNAVAILABLE).active
    assert old is not None  # the demo's spoken greeting
    draft = vm.create_draft(db_session, user, profile, GreetingKind.UNAVAILABLE, GreetingSource.UPLOAD,
                            data=tone("mp3", 2.0), filename="ansage.mp3")
    slot = vm.greeting_slot(db_session, profile, GreetingKind.UNAVAILABLE)
    assert (slot.active.id, slot.draft.id) == (old.id, draft.id)
    assert not storage.exists(draft.audio_key)  # the file is in place only once the row commits
    db_session.commit()
    assert storage.exists(draft.audio_key)

    vm.activate_greeting(db_session, user, profile, draft.id)
    slot = vm.greeting_slot(db_session, profile, GreetingKind.UNAVAILABLE)
    assert slot.active.id == draft.id and slot.draft is None
    assert draft.status == GreetingStatus.ACTIVE
    changed = db_session.scalars(select(PlatformEvent).where(PlatformEvent.kind == "voicemail.greeting_changed")
                                 .order_by(PlatformEvent.id.desc())).first()
    assert changed.payload["greeting_id"] == draft.id and changed.payload["source"] == "upload"

    vm.use_standard(db_session, user, profile, GreetingKind.UNAVAILABLE)
    assert vm.greeting_slot(db_session, profile, GreetingKind.UNAVAILABLE).active is None


def test_refused_greeting_changes_nothing(db_session, profile, user):
    before = vm.greeting_slot(db_session, profile, GreetingKind.UNAVAILABLE)
    with pytest.raises(ValidationFailed) as refused:
        vm.create_draft(db_session, user, profile, GreetingKind.UNAVAILABLE, GreetingSource.UPLOAD,
                        data=b"just text\n" * 50, filename="ansage.txt")
    assert refused.value.field == "file"
    after = vm.greeting_slot(db_session, profile, GreetingKind.UNAVAILABLE)
    assert after.active.id == before.active.id and after.draft is None


def test_greeting_spoken_from_text(db_session, profile, user):
    if not tts.available():
        pytest.skip("espeak-ng is not installed")
    draft = vm.create_draft(db_session, user, profile, GreetingKind.BUSY, GreetingSource.TTS,
                            text="Ich telefoniere gerade. Bitte hinterlassen Sie eine Nachricht.")
    assert draft.duration_ms > 1500 and draft.text.startswith("Ich telefoniere")


def test_absence_greeting_takes_over_only_in_its_period(db_session, profile, user):
    today = vm.local_time(utcnow()).date()
    draft = vm.create_draft(db_session, user, profile, GreetingKind.ABSENCE, GreetingSource.UPLOAD,
                            data=tone("flac", 1.5), absence_from=today + timedelta(days=2),
                            absence_until=today + timedelta(days=9))
    vm.activate_greeting(db_session, user, profile, draft.id)
    assert not vm.greeting_slot(db_session, profile, GreetingKind.ABSENCE).absence_in_effect
    vm.set_absence_period(db_session, user, profile, today, None)
    assert vm.greeting_slot(db_session, profile, GreetingKind.ABSENCE).absence_in_effect
    with pytest.raises(ValidationFailed):
        vm.set_absence_period(db_session, user, profile, today, today - timedelta(days=1))


def test_absence_today_is_the_date_in_berlin_not_on_the_servers_clock(app, db_session, profile, user, monkeypatch):
    draft = vm.create_draft(db_session, user, profile, GreetingKind.ABSENCE, GreetingSource.UPLOAD,
                            data=tone("flac", 1.5), absence_from=date(2026, 12, 1))
    # 23:30 UTC on 30 November is already 1 December, 00:30, in Berlin.
    monkeypatch.setattr(vm, "utcnow", lambda: datetime(2026, 11, 30, 23, 30, tzinfo=UTC))
    assert vm.in_period(draft)
    monkeypatch.setattr(vm, "utcnow", lambda: datetime(2026, 11, 30, 22, 30, tzinfo=UTC))
    assert not vm.in_period(draft)


# --- deposits and messages --------------------------------------------------------------------


def test_deposit_is_idempotent_on_the_platform_message_id(db_session, profile):
    first = deposit(db_session, message_id="plat-1")
    again, created = vm.deposit(db_session, vm.DepositInput(ANNA_NUMBER, None, None, "plat-1", tone("wav", 1.0)))
    assert again.id == first.id and not created
    assert db_session.scalar(select(func.count()).select_from(VoicemailMessage)
                             .where(VoicemailMessage.platform_message_id == "plat-1")) == 1
    assert first.duration_ms == pytest.approx(1000, abs=30)
    db_session.commit()
    assert storage.exists(first.audio_key)


def test_deposit_for_a_number_without_voicemail_or_switched_off(db_session, profile, user):
    with pytest.raises(NotFound):
        deposit(db_session, "+4930123456710")  # Anna's fax number
    vm.update_settings(db_session, user, profile, settings_input(enabled=False))
    with pytest.raises(vm.VoicemailUnavailable):
        deposit(db_session)
    vm.update_settings(db_session, user, profile, settings_input(mode=VoicemailMode.ANNOUNCE_ONLY))
    with pytest.raises(vm.VoicemailUnavailable):
        deposit(db_session)


def test_deposit_follows_the_current_number_assignment(db_session, profile):
    assignment = db_session.scalar(select(ServiceAssignment).where(
        ServiceAssignment.profile_id == profile.id, ServiceAssignment.service == Service.VOICEMAIL))
    assignment.number_id = None
    db_session.flush()
    with pytest.raises(NotFound):
        deposit(db_session)


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("platform_message_id", {"platform_message_id": ""}),
        ("platform_message_id", {"platform_message_id": "with space"}),
        ("called", {"called": "no number"}),
        ("caller", {"caller": "12ab"}),
        ("received_at", {"received_at": "yesterday"}),
        ("audio", {"audio": None}),
    ],
)
def test_deposit_input_errors_name_the_field(db_session, field, changes):
    values = dict(called=ANNA_NUMBER, caller="", received_at=None, platform_message_id="x-1", audio=b"RIFF")
    values.update(changes)
    with pytest.raises(ValidationFailed) as refused:
        vm.deposit(db_session, vm.DepositInput(**values))
    assert refused.value.field == field


def test_withheld_caller_is_stored_without_number(db_session, profile):
    message = deposit(db_session, caller="anonymous")
    assert message.caller_e164 is None


def test_list_is_newest_first_filters_and_searches(db_session, profile):
    base = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    a = deposit(db_session, caller="+4940111222", received_at=base)
    b = deposit(db_session, caller="+4989555666", received_at=base + timedelta(days=1))
    page = vm.list_messages(db_session, profile, vm.MessageQuery())
    assert page.items[0].received_at >= page.items[-1].received_at
    assert vm.list_messages(db_session, profile, vm.MessageQuery(caller="040 111")).items == [a]
    assert vm.list_messages(db_session, profile, vm.MessageQuery(caller="+49 89")).items == [b]
    assert vm.list_messages(db_session, profile, vm.MessageQuery(day=date(2026, 3, 11))).items == [b]
    vm.mark(db_session, None, profile, [a.id], heard=True)
    new_ids = {m.id for m in vm.list_messages(db_session, profile, vm.MessageQuery(only_new=True)).items}
    assert b.id in new_ids and a.id not in new_ids


def test_mark_heard_and_new_changes_the_count(db_session, profile):
    message = deposit(db_session)
    before = vm.new_count(db_session, profile.id)
    vm.mark(db_session, None, profile, [message.id], heard=True)
    assert vm.new_count(db_session, profile.id) == before - 1
    vm.mark(db_session, None, profile, [message.id], heard=False)
    assert vm.new_count(db_session, profile.id) == before


def test_delete_restore_within_undo_time_then_purge(db_session, profile, user):
    message = deposit(db_session)
    key = message.audio_key
    vm.delete_messages(db_session, user, profile, [message.id])
    assert message.id not in {m.id for m in vm.list_messages(db_session, profile, vm.MessageQuery()).items}
    vm.restore_messages(db_session, user, profile, [message.id])
    assert vm.message_of(db_session, profile, message.id).deleted_at is None

    vm.delete_messages(db_session, user, profile, [message.id])
    db_session.execute(VoicemailMessage.__table__.update().where(VoicemailMessage.id == message.id)
                       .values(deleted_at=utcnow() - timedelta(seconds=vm.UNDO_SECONDS + 1)))
    with pytest.raises(ValidationFailed):
        vm.restore_messages(db_session, user, profile, [message.id])
    assert vm.purge_deleted(db_session, profile.id) == 1
    db_session.commit()  # files go once the removal is committed
    assert not storage.exists(key)


def test_someone_elses_messages_are_not_touched(db_session, profile, user):
    other = profile_by_email(db_session, "max.mueller@muster.example")
    theirs = deposit(db_session, MAX_NUMBER)
    with pytest.raises(ValidationFailed):
        vm.delete_messages(db_session, user, profile, [])
    with pytest.raises(NotFound):
        vm.delete_messages(db_session, user, profile, [theirs.id])
    assert vm.message_of(db_session, other, theirs.id).deleted_at is None
    with pytest.raises(NotFound):
        vm.message_of(db_session, profile, theirs.id)


def test_message_list_query_count_does_not_grow_with_the_messages(db_session, profile, engine):
    def count_queries(n_extra: int) -> int:
        for _ in range(n_extra):
            deposit(db_session, data=tone("wav", 1.0))
        db_session.commit()
        statements = []

        def _count(*_args):
            statements.append(1)

        event.listen(engine, "before_cursor_execute", _count)
        try:
            page = vm.list_messages(db_session, profile, vm.MessageQuery())
            for m in page.items:  # what the template reads
                _ = (m.caller_e164, m.received_at, m.duration_ms, m.is_new)
        finally:
            event.remove(engine, "before_cursor_execute", _count)
        return len(statements)

    few = count_queries(0)
    many = count_queries(25)
    assert few == many <= 5


# --- notification -----------------------------------------------------------------------------


def test_deposit_queues_a_notification_in_the_profiles_language(db_session, profile, user):
    vm.update_settings(db_session, user, profile, settings_input(notify_email=True, attach_audio=True))
    message = deposit(db_session, caller="+4940123456789")
    mail = db_session.scalars(select(MailMessage).order_by(MailMessage.id.desc())).first()
    assert mail.recipient == profile.email
    assert "040 123456789" in mail.subject
    assert "Anrufer" in mail.body_text and "0:01" in mail.body_text
    assert f"/profiles/{profile.id}/voicemail" in mail.body_text
    assert "/voicemail/listen/" in mail.body_text
    assert mail.attachment_type == "audio/wav" and mail.attachment.startswith(b"RIFF")
    assert message.id  # kept: no „nach Versand löschen"

    profile.language = "en"
    vm.update_settings(db_session, user, profile, settings_input(notify_email=True, attach_audio=False))
    deposit(db_session, caller=None)
    mail = db_session.scalars(select(MailMessage).order_by(MailMessage.id.desc())).first()
    assert "Unknown" in mail.subject and "Caller" in mail.body_text
    assert mail.attachment is None


def test_delete_after_send_removes_the_message_once_the_mail_is_accepted(db_session, profile, user):
    vm.update_settings(db_session, user, profile, settings_input(notify_email=True, attach_audio=True,
                                                                 delete_after_send=True))
    message = deposit(db_session)
    message_id = message.id
    # Tests run jobs immediately, but only after the commit; until then the message is there.
    assert db_session.get(VoicemailMessage, message_id) is not None
    db_session.commit()
    db_session.expire_all()
    assert db_session.get(VoicemailMessage, message_id) is None
    mail = db_session.scalars(select(MailMessage).order_by(MailMessage.id.desc())).first()
    assert mail.after_send == "voicemail.delete_after_send" and mail.sent_at is not None


def test_listen_link_is_signed_and_expires_after_seven_days(app, db_session, profile):
    from unittest import mock

    message = deposit(db_session)
    token = vm.listen_token(message)
    assert vm.message_for_token(db_session, token).id == message.id
    # change one character well inside the signature (the last one carries padding bits that a
    # lenient base64 decoder may ignore)
    i = len(token) - 10
    forged = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1:]
    with pytest.raises(NotFound):
        vm.message_for_token(db_session, forged)
    later = datetime.now().timestamp() + vm.LISTEN_LINK_MAX_AGE + 60
    with mock.patch("itsdangerous.timed.time.time", return_value=later), pytest.raises(vm.LinkExpired):
        vm.message_for_token(db_session, token)


def test_deleting_a_profile_removes_its_voicemail_rows_and_files(db_session, profile):
    from webapp.services import profiles

    admin = db_session.scalar(select(User).where(User.email == "admin@muster.example"))
    message = deposit(db_session)
    greeting = vm.create_draft(db_session, admin, profile, GreetingKind.BUSY, GreetingSource.UPLOAD,
                               data=tone("wav", 1.0))
    keys, profile_id = [message.audio_key, greeting.audio_key], profile.id
    profiles.delete_profile(db_session, admin, profile)
    db_session.commit()
    assert not any(storage.exists(key) for key in keys)
    assert db_session.scalar(select(func.count()).select_from(VoicemailMessage)
                             .where(VoicemailMessage.profile_id == profile_id)) == 0


def test_cli_deposits_a_spoken_message(runner, db_session, profile):
    if not tts.available():
        pytest.skip("espeak-ng is not installed")
    before = vm.new_count(db_session, profile.id)
    result = runner.invoke(args=["voicemail-deposit", "030 1234567-11", "--text", "Bitte um Rückruf."])
    assert result.exit_code == 0, result.output
    assert "stored for +4930123456711" in result.output
    assert vm.new_count(db_session, profile.id) == before + 1
    refused = runner.invoke(args=["voicemail-deposit", "+4930123456799", "--text", "Hallo"])
    assert refused.exit_code != 0 and "antwortet kein Anrufbeantworter" in refused.output


def test_periodic_job_purges_expired_deletions_in_every_box(db_session, profile, user):
    from webapp.services.voicemail_jobs import purge_deleted_voicemail

    message = deposit(db_session)
    vm.delete_messages(db_session, user, profile, [message.id])
    db_session.execute(VoicemailMessage.__table__.update().where(VoicemailMessage.id == message.id)
                       .values(deleted_at=utcnow() - timedelta(seconds=vm.UNDO_SECONDS + 1)))
    db_session.commit()
    message_id = message.id
    db_session.expunge(message)
    assert purge_deleted_voicemail.call_local() >= 1
    assert db_session.scalar(select(func.count()).select_from(VoicemailMessage)
                             .where(VoicemailMessage.id == message_id)) == 0


def test_cli_deposits_a_given_audio_file(runner, db_session, profile, tmp_path):
    audio_file = tmp_path / "anruf.m4a"
    audio_file.write_bytes(tone("m4a-aac", 1.0))
    result = runner.invoke(args=["voicemail-deposit", ANNA_NUMBER, "--file", str(audio_file), "--caller", "+4940123"])
    assert result.exit_code == 0, result.output
    newest = vm.list_messages(db_session, profile, vm.MessageQuery(caller="040 123")).items[0]
    assert newest.duration_ms == pytest.approx(1000, abs=50)
    both = runner.invoke(args=["voicemail-deposit", ANNA_NUMBER, "--file", str(audio_file), "--text", "x"])
    assert both.exit_code != 0


def test_message_filter_takes_a_date_range_with_either_end_open(db_session, profile):
    base = datetime(2026, 3, 10, 22, 30, tzinfo=UTC)  # 23:30 in Berlin: still the 10th there
    days = [deposit(db_session, caller=f"+494011122{n}", received_at=base + timedelta(days=n)) for n in range(4)]

    def found(**kw):
        ids = {m.id for m in vm.list_messages(db_session, profile, vm.MessageQuery(**kw), tz=ZoneInfo("Europe/Berlin")).items}
        return [n for n, m in enumerate(days) if m.id in ids]

    assert found(since=date(2026, 3, 11), until=date(2026, 3, 12)) == [1, 2]
    assert found(since=date(2026, 3, 12)) == [2, 3]
    assert found(until=date(2026, 3, 10)) == [0]
    assert found(since=date(2026, 3, 10), until=date(2026, 3, 10)) == [0]


def test_a_page_carries_its_total_and_the_box_new_count_in_one_statement(db_session, profile, engine):
    """``Box.page``: the rows, the filtered total and the whole box's new count in one statement;
    an empty page reads the counts on their own; a page past the end gives the last page."""
    base = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    for index in range(vm.PAGE_SIZE + 3):
        deposit(db_session, caller="+4940111222" if index % 2 else "+4989555666", received_at=base + timedelta(hours=index))
    everything = vm.list_messages(db_session, profile, vm.MessageQuery())
    total, new = everything.total, everything.new_count
    assert total >= vm.PAGE_SIZE + 3 and everything.pages == -(-total // vm.PAGE_SIZE)
    assert new == db_session.scalar(select(func.count()).select_from(VoicemailMessage).where(
        VoicemailMessage.profile_id == profile.id, VoicemailMessage.deleted_at.is_(None),
        VoicemailMessage.heard_at.is_(None)))
    heard = everything.items[0]
    vm.mark(db_session, None, profile, [heard.id], heard=True)

    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        filtered = vm.list_messages(db_session, profile, vm.MessageQuery(caller="089"))
        one = len(statements)
        nothing = vm.list_messages(db_session, profile, vm.MessageQuery(caller="0711"))
        two = len(statements) - one
        past = vm.list_messages(db_session, profile, vm.MessageQuery(caller="089", page=99))
        three = len(statements) - one - two
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert (one, two, three) == (1, 2, 3)
    assert filtered.total == (vm.PAGE_SIZE + 3 + 1) // 2 and all(m.caller_e164 == "+4989555666" for m in filtered.items)
    assert filtered.new_count == new - 1  # the whole box's new messages, not the filter's
    assert (nothing.items, nothing.total, nothing.pages, nothing.new_count) == ([], 0, 1, new - 1)
    assert (past.page, past.pages) == (filtered.pages, filtered.pages) and past.items
    assert past.query.page == filtered.pages
