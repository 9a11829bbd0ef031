"""Services of sign-in security: server-side sessions, password reset links, TOTP and recovery codes."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import func, select

from tests import factories
from webapp.models import (
    LoginThrottle,
    MailMessage,
    RecoveryCode,
    Role,
    UserSession,
    UserToken,
    utcnow,
)
from webapp.services import accounts, password_reset, sessions, totp
from webapp.services.errors import DomainError, ValidationFailed

LIFETIME = timedelta(hours=12)
UA_FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"


# --- sessions -------------------------------------------------------------------------------------


def test_a_session_id_is_stored_only_as_its_hash_and_finds_its_user(db_session):
    user = factories.user(db_session)
    token = sessions.start(db_session, user, user_agent=UA_FIREFOX, client_address="203.0.113.5")
    row = db_session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in row.token_hash
    assert row.device == "Firefox · Windows" and row.client_address == "203.0.113.5"
    assert sessions.user_for(db_session, user.id, token, LIFETIME) is user
    assert sessions.user_for(db_session, user.id + 1, token, LIFETIME) is None  # another user's id
    assert sessions.user_for(db_session, user.id, "forged", LIFETIME) is None
    assert sessions.user_for(db_session, user.id, None, LIFETIME) is None


def test_a_row_loaded_along_comes_with_the_user_in_one_statement(db_session, engine):
    """A page's profile rides on the session check; a wrong id finds nothing, and a session that no
    longer signs in loads nothing along either."""
    from sqlalchemy import event
    from sqlalchemy.orm import joinedload

    from webapp.models import UmsProfile

    user = factories.user(db_session)
    profile = db_session.scalars(select(UmsProfile).where(UmsProfile.assignments.any())).first()
    numbers = {a.number_id for a in profile.assignments}
    token = sessions.start(db_session, user, user_agent="", client_address="")
    db_session.commit()
    db_session.expunge_all()
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_rest):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        along = sessions.Along(UmsProfile, profile.id, (joinedload(UmsProfile.assignments),))
        found = sessions.user_for(db_session, user.id, token, LIFETIME, along=along)
        assert found is not None and found.id == user.id
        assert along.found is not None and along.found.id == profile.id
        assert {a.number_id for a in along.found.assignments} == numbers
        profile_reads = [s for s in statements if "ums_profiles" in s or "service_assignments" in s]
        assert len(profile_reads) == 1 and "FROM user_sessions" in profile_reads[0], statements

        missing = sessions.Along(UmsProfile, profile.id + 10_000)
        assert sessions.user_for(db_session, user.id, token, LIFETIME, along=missing) is not None
        assert missing.found is None
        ended = sessions.Along(UmsProfile, profile.id)
        assert sessions.user_for(db_session, user.id, "forged", LIFETIME, along=ended) is None
        assert ended.found is None
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_an_ended_or_expired_session_no_longer_signs_in(db_session):
    user = factories.user(db_session)
    now = utcnow()
    old = sessions.start(db_session, user, user_agent="", client_address="", now=now - LIFETIME)
    current = sessions.start(db_session, user, user_agent="", client_address="")
    assert sessions.user_for(db_session, user.id, old, LIFETIME) is None  # past the lifetime
    sessions.end(db_session, current)
    assert sessions.user_for(db_session, user.id, current, LIFETIME) is None


def test_last_use_is_written_at_most_once_a_minute(db_session):
    user = factories.user(db_session)
    start = utcnow()
    token = sessions.start(db_session, user, user_agent="", client_address="", now=start)
    row = db_session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    sessions.user_for(db_session, user.id, token, LIFETIME, now=start + timedelta(seconds=59))
    assert row.last_used_at == start
    sessions.user_for(db_session, user.id, token, LIFETIME, now=start + timedelta(seconds=61))
    assert row.last_used_at == start + timedelta(seconds=61)


def test_end_all_ends_every_session_but_the_one_kept(db_session):
    user, other = factories.user(db_session), factories.user(db_session)
    tokens = [sessions.start(db_session, user, user_agent="", client_address="") for _ in range(3)]
    others = sessions.start(db_session, other, user_agent="", client_address="")
    assert sessions.end_all(db_session, user, except_token=tokens[0]) == 2
    assert [sessions.user_for(db_session, user.id, t, LIFETIME) for t in tokens] == [user, None, None]
    assert sessions.user_for(db_session, other.id, others, LIFETIME) is other  # untouched


def test_active_lists_open_sessions_current_first_and_end_one_is_only_for_the_owner(db_session):
    user, stranger = factories.user(db_session), factories.user(db_session)
    first = sessions.start(db_session, user, user_agent=UA_FIREFOX, client_address="198.51.100.1")
    second = sessions.start(db_session, user, user_agent="", client_address="198.51.100.2")
    sessions.end(db_session, sessions.start(db_session, user, user_agent="", client_address=""))
    listed = sessions.active(db_session, user, first, LIFETIME)
    assert [s.client_address for s in listed] == ["198.51.100.1", "198.51.100.2"]
    assert [s.current for s in listed] == [True, False]
    assert not sessions.end_one(db_session, stranger, listed[1].id)  # not the stranger's
    assert sessions.end_one(db_session, user, listed[1].id)
    assert sessions.user_for(db_session, user.id, second, LIFETIME) is None
    assert not sessions.end_one(db_session, user, listed[1].id)  # already ended


def test_old_ended_rows_are_purged_at_the_next_sign_in(db_session):
    user = factories.user(db_session)
    long_ago = utcnow() - sessions.KEEP_ENDED - timedelta(days=1)
    sessions.end(db_session, sessions.start(db_session, user, user_agent="", client_address="", now=long_ago),
                 now=long_ago)
    sessions.start(db_session, user, user_agent="", client_address="")
    assert db_session.scalar(select(func.count()).select_from(UserSession)
                             .where(UserSession.user_id == user.id)) == 1


def test_changing_the_password_needs_the_current_one_and_ends_every_session(db_session):
    user = factories.user(db_session, password="old-password-1")
    token = sessions.start(db_session, user, user_agent="", client_address="")
    with pytest.raises(ValidationFailed) as wrong:
        accounts.change_password(db_session, user, "not-it", "new-password-2")
    assert wrong.value.field == "current_password"
    assert sessions.user_for(db_session, user.id, token, LIFETIME) is user
    with pytest.raises(ValidationFailed):
        accounts.change_password(db_session, user, "old-password-1", "short")
    accounts.change_password(db_session, user, "old-password-1", "new-password-2")
    assert accounts.verify_password(user.password_hash, "new-password-2")
    assert sessions.user_for(db_session, user.id, token, LIFETIME) is None


# --- password reset -------------------------------------------------------------------------------


def _reset_mails(db_session, email):
    return list(db_session.scalars(select(MailMessage).where(MailMessage.recipient == email)))


def test_a_reset_link_is_mailed_stored_hashed_and_valid_for_one_hour(app, db_session):
    user = factories.user(db_session, email="reset1@test.example")
    password_reset.request_link(db_session, "Reset1@Test.Example ", "203.0.113.1")
    [mail] = _reset_mails(db_session, user.email)
    token = mail.body_text.split("/reset-password/")[1].split()[0]
    row = db_session.scalar(select(UserToken).where(UserToken.user_id == user.id))
    assert row.purpose == "reset_password" and row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert timedelta(minutes=59) < row.expires_at - row.created_at <= timedelta(hours=1)
    assert password_reset.user_for_link(db_session, token) is user
    assert accounts.token_user(db_session, token, "reset_password", now=row.expires_at) is None  # after 1 h
    assert accounts.token_user(db_session, token, "set_password") is None  # not an invitation link


def test_the_reset_link_works_once_and_ends_every_session(app, db_session):
    user = factories.user(db_session, email="reset2@test.example")
    token_a = sessions.start(db_session, user, user_agent="", client_address="")
    password_reset.request_link(db_session, user.email, "203.0.113.2")
    link = _reset_mails(db_session, user.email)[0].body_text.split("/reset-password/")[1].split()[0]
    password_reset.reset(db_session, link, "brand-new-password")
    assert accounts.verify_password(user.password_hash, "brand-new-password")
    assert sessions.user_for(db_session, user.id, token_a, LIFETIME) is None
    with pytest.raises(ValidationFailed):
        password_reset.reset(db_session, link, "another-password-3")


def test_unknown_and_inactive_addresses_get_no_mail_and_the_same_result(app, db_session):
    inactive = factories.user(db_session, email="gone@test.example")
    inactive.active = False
    assert password_reset.request_link(db_session, "nobody@test.example", "203.0.113.3") == \
        password_reset.request_link(db_session, inactive.email, "203.0.113.3") == password_reset.ResetRequest()
    assert _reset_mails(db_session, "nobody@test.example") == _reset_mails(db_session, inactive.email) == []


def test_reset_mails_are_limited_per_address_silently(app, db_session):
    user = factories.user(db_session, email="reset3@test.example")
    for n in range(password_reset.PER_ADDRESS + 2):
        result = password_reset.request_link(db_session, user.email, f"198.51.100.{n}")
        assert result == password_reset.ResetRequest()  # the caller learns nothing
    assert len(_reset_mails(db_session, user.email)) == password_reset.PER_ADDRESS
    # an hour later the address may ask again
    later = utcnow() + password_reset.LIMIT_WINDOW + timedelta(seconds=1)
    password_reset.request_link(db_session, user.email, "198.51.100.200", now=later)
    assert len(_reset_mails(db_session, user.email)) == password_reset.PER_ADDRESS + 1


def test_reset_requests_are_limited_per_client(app, db_session):
    for n in range(password_reset.PER_CLIENT):
        assert password_reset.request_link(db_session, f"x{n}@test.example", "192.0.2.9").client_limited is False
    assert password_reset.request_link(db_session, "y@test.example", "192.0.2.9").client_limited is True
    assert password_reset.request_link(db_session, "y@test.example", "192.0.2.10").client_limited is False
    # the throttle keys are hashes: no address in clear
    assert not any("@" in key for key in db_session.scalars(select(LoginThrottle.key)))


# --- TOTP -----------------------------------------------------------------------------------------


def _enabled(db_session, **kw):
    user = factories.user(db_session, **kw)
    setup = totp.begin_setup(db_session, user)
    codes = totp.confirm(db_session, user, pyotp.TOTP(setup.secret).now())
    return user, setup.secret, codes


def test_setup_keeps_an_unconfirmed_secret_and_shows_a_qr_code(db_session):
    user = factories.user(db_session, email="qr@test.example")
    setup = totp.begin_setup(db_session, user)
    assert totp.begin_setup(db_session, user).secret == setup.secret
    assert setup.uri.startswith("otpauth://totp/UMS%20Portal:qr%40test.example?secret=")
    assert setup.qr_svg_data_uri.startswith("data:image/svg+xml")
    assert not totp.is_enabled(user)


def test_confirm_needs_a_right_code_and_gives_ten_recovery_codes_stored_hashed(db_session):
    user = factories.user(db_session)
    setup = totp.begin_setup(db_session, user)
    with pytest.raises(ValidationFailed):
        totp.confirm(db_session, user, "000000" if pyotp.TOTP(setup.secret).now() != "000000" else "111111")
    codes = totp.confirm(db_session, user, pyotp.TOTP(setup.secret).now())
    assert totp.is_enabled(user) and len(codes) == 10 == len(set(codes))
    stored = set(db_session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)))
    assert len(stored) == 10 and not any(c in stored for c in codes)
    with pytest.raises(DomainError):
        totp.confirm(db_session, user, pyotp.TOTP(setup.secret).now())


def test_sign_in_accepts_a_code_once_and_neighbouring_steps(db_session):
    user, secret, _ = _enabled(db_session)
    otp = pyotp.TOTP(secret)
    now = utcnow() + timedelta(minutes=5)
    code = otp.at(now)
    assert totp.verify_sign_in(db_session, user, code, "203.0.113.20", now=now).ok
    assert not totp.verify_sign_in(db_session, user, code, "203.0.113.20", now=now).ok  # no replay
    later = now + timedelta(minutes=1)
    assert totp.verify_sign_in(db_session, user, otp.at(later - timedelta(seconds=30)), "203.0.113.20", now=later).ok
    much_later = later + timedelta(minutes=5)
    assert not totp.verify_sign_in(db_session, user, otp.at(much_later - timedelta(minutes=2)), "x", now=much_later).ok


def test_a_recovery_code_signs_in_once(db_session):
    user, _, codes = _enabled(db_session)
    result = totp.verify_sign_in(db_session, user, codes[3].lower().replace("-", " "), "203.0.113.21")
    assert result.ok and result.used_recovery_code and result.recovery_codes_left == 9
    assert not totp.verify_sign_in(db_session, user, codes[3], "203.0.113.21").ok


def test_wrong_codes_count_toward_the_sign_in_throttle(db_session):
    user, secret, _ = _enabled(db_session)
    for _ in range(accounts.MAX_FAILED_LOGINS - 1):
        assert totp.verify_sign_in(db_session, user, "12345x", "203.0.113.22").locked_until is None
    assert totp.verify_sign_in(db_session, user, "12345x", "203.0.113.22").locked_until is not None
    # locked: even the right code waits, and so does the password from that client
    assert not totp.verify_sign_in(db_session, user, pyotp.TOTP(secret).now(), "203.0.113.22").ok
    assert accounts.sign_in(db_session, user.email, "secret-password-1", "203.0.113.22").user is None


def test_the_password_alone_does_not_clear_the_count_when_a_code_must_follow(db_session):
    user, _, _ = _enabled(db_session)
    for _ in range(accounts.MAX_FAILED_LOGINS - 1):
        totp.verify_sign_in(db_session, user, "000000x", "203.0.113.23")
    assert accounts.sign_in(db_session, user.email, "secret-password-1", "203.0.113.23").user is user
    assert totp.verify_sign_in(db_session, user, "000000x", "203.0.113.23").locked_until is not None


def test_turning_off_needs_the_password_and_is_refused_where_required(db_session):
    customer = factories.customer(db_session)
    user, _, _ = _enabled(db_session, roles=[(Role.IPFONIE_ADMIN, customer)])
    with pytest.raises(ValidationFailed):
        totp.disable(db_session, user, "wrong", frozenset())
    with pytest.raises(DomainError):
        totp.disable(db_session, user, "secret-password-1", frozenset({totp.ADMINS}))
    totp.disable(db_session, user, "secret-password-1", frozenset({totp.BACK_OFFICE}))
    assert not totp.is_enabled(user) and user.totp_secret is None
    assert totp.remaining_recovery_codes(db_session, user) == 0


def test_new_recovery_codes_replace_the_old_ones(db_session):
    user, _, old = _enabled(db_session)
    with pytest.raises(ValidationFailed):
        totp.new_recovery_codes(db_session, user, "wrong")
    new = totp.new_recovery_codes(db_session, user, "secret-password-1")
    assert not totp.verify_sign_in(db_session, user, old[0], "203.0.113.24").ok
    assert totp.verify_sign_in(db_session, user, new[0], "203.0.113.24").ok


def test_who_must_use_two_factor_by_configuration(db_session):
    customer = factories.customer(db_session)
    admin = factories.user(db_session, roles=[(Role.IPFONIE_ADMIN, customer)])
    back_office = factories.user(db_session, roles=[(Role.BACK_OFFICE, None)])
    ums_user = factories.user(db_session, roles=[(Role.UMS_USER, customer)])
    assert [totp.is_required(u, frozenset()) for u in (admin, back_office, ums_user)] == [False] * 3
    only_bo = totp.parse_required("back_office")
    assert [totp.is_required(u, only_bo) for u in (admin, back_office, ums_user)] == [False, True, False]
    admins = totp.parse_required(" admins , back_office")
    assert [totp.is_required(u, admins) for u in (admin, back_office, ums_user)] == [True, True, False]
    with pytest.raises(ValueError, match="everyone"):
        totp.parse_required("admins,everyone")


# --- security notices -----------------------------------------------------------------------------


def test_the_owner_is_told_by_mail_of_a_password_change_and_two_factor_off_in_their_language(app, db_session):
    user, _, _ = _enabled(db_session, email="notice@test.example", password="old-password-1")
    user.locale = "en"
    accounts.change_password(db_session, user, "old-password-1", "new-password-2")
    totp.disable(db_session, user, "new-password-2", frozenset())
    subjects = [m.subject for m in _reset_mails(db_session, user.email)]
    assert subjects == ["Security notice for your UMS Portal login"] * 2
    bodies = [m.body_text for m in _reset_mails(db_session, user.email)]
    assert "was changed" in bodies[0] and "turned off" in bodies[1]
    assert "http://localhost/forgot-password" in bodies[0]
    assert "new-password-2" not in "".join(bodies)
