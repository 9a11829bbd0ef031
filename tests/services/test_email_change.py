"""E-mail change by code (domain.md §3): code to the current address, hashed, 15 minutes, once,
5 wrong tries void it; the new address must be free; notices to both; the login follows."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from webapp.db import COMMIT_ON_REFUSAL
from webapp.models import EmailChangeCode, MailMessage, UmsProfile, User
from webapp.services import accounts, email_change
from webapp.services.errors import EmailTaken, ValidationFailed


@pytest.fixture
def admin(db_session):
    return db_session.scalar(select(User).where(User.email == "admin@muster.example"))


@pytest.fixture
def anna(db_session):
    return db_session.scalar(select(UmsProfile).where(UmsProfile.email_normalized == "anna.schmidt@muster.example"))


def mailed_code(session, to):
    body = session.scalar(select(MailMessage.body_text).where(MailMessage.recipient == to)
                          .order_by(MailMessage.id.desc()))
    return re.search(r"\b(\d{6})\b", body).group(1)


def test_full_change(db_session, admin, anna):
    email_change.request_code(db_session, admin, anna)
    assert email_change.state(db_session, anna).step == "code_sent"
    code = mailed_code(db_session, "anna.schmidt@muster.example")
    stored = db_session.scalar(select(EmailChangeCode).where(EmailChangeCode.profile_id == anna.id))
    assert code not in stored.code_hash and stored.code_hash.startswith("hmac-sha256$")
    assert timedelta(minutes=14) < stored.expires_at - stored.created_at <= timedelta(minutes=15)
    email_change.verify_code(db_session, admin, anna, f" {code} ")
    assert email_change.state(db_session, anna).step == "verified"
    email_change.change_email(db_session, admin, anna, "Anna.S@Muster.example")
    assert anna.email_normalized == "anna.s@muster.example" and anna.user.email == "anna.s@muster.example"
    assert email_change.state(db_session, anna).step == "idle"
    recipients = db_session.scalars(select(MailMessage.recipient).order_by(MailMessage.id.desc()).limit(2)).all()
    assert set(recipients) == {"anna.schmidt@muster.example", "anna.s@muster.example"}
    assert accounts.authenticate(db_session, "anna.s@muster.example", "demo-user-2026") is not None
    assert accounts.authenticate(db_session, "anna.schmidt@muster.example", "demo-user-2026") is None


def test_code_works_once(db_session, admin, anna):
    email_change.request_code(db_session, admin, anna)
    code = mailed_code(db_session, anna.email_normalized)
    email_change.verify_code(db_session, admin, anna, code)
    email_change.change_email(db_session, admin, anna, "anna.neu@muster.example")
    with pytest.raises(ValidationFailed):
        email_change.verify_code(db_session, admin, anna, code)
    with pytest.raises(ValidationFailed):
        email_change.change_email(db_session, admin, anna, "anna.noch.neuer@muster.example")


def test_expired_code_is_refused(db_session, admin, anna):
    email_change.request_code(db_session, admin, anna)
    code = mailed_code(db_session, anna.email_normalized)
    row = db_session.scalar(select(EmailChangeCode).where(EmailChangeCode.profile_id == anna.id))
    row.expires_at = row.created_at - timedelta(seconds=1)
    db_session.flush()
    assert email_change.state(db_session, anna).step == "idle"
    with pytest.raises(ValidationFailed):
        email_change.verify_code(db_session, admin, anna, code)


def test_five_wrong_tries_void_the_code(db_session, admin, anna):
    email_change.request_code(db_session, admin, anna)
    code = mailed_code(db_session, anna.email_normalized)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        with pytest.raises(ValidationFailed) as exc:
            email_change.verify_code(db_session, admin, anna, wrong)
        assert exc.value.field == "code"
        assert db_session.info.pop(COMMIT_ON_REFUSAL) is True
    row = db_session.scalar(select(EmailChangeCode).where(EmailChangeCode.profile_id == anna.id))
    assert row.failed_attempts == 5 and row.voided_at is not None
    with pytest.raises(ValidationFailed):
        email_change.verify_code(db_session, admin, anna, code)


def test_new_code_voids_the_old_one(db_session, admin, anna):
    email_change.request_code(db_session, admin, anna)
    old = mailed_code(db_session, anna.email_normalized)
    email_change.request_code(db_session, admin, anna)
    new = mailed_code(db_session, anna.email_normalized)
    if old != new:
        with pytest.raises(ValidationFailed):
            email_change.verify_code(db_session, admin, anna, old)
    email_change.verify_code(db_session, admin, anna, new)


@pytest.mark.parametrize("taken", ["MAX.MUELLER@muster.example", "admin@muster.example"])
def test_new_address_must_be_free_on_the_platform(db_session, admin, anna, taken):
    email_change.request_code(db_session, admin, anna)
    email_change.verify_code(db_session, admin, anna, mailed_code(db_session, anna.email_normalized))
    with pytest.raises(EmailTaken) as exc:
        email_change.change_email(db_session, admin, anna, taken)
    assert exc.value.field == "email"
    assert email_change.state(db_session, anna).step == "verified"


def test_other_admins_customer_cannot_request(db_session, anna):
    from webapp.services.errors import NotFound

    cf = db_session.scalar(select(User).where(User.email == "cf-admin@beispiel.example"))
    with pytest.raises(NotFound):  # not their customer: outside their scope
        email_change.request_code(db_session, cf, anna)


def test_codes_cannot_be_requested_without_end(db_session, admin, anna):
    """5 wrong tries per code must not become unlimited tries by requesting code after code."""
    for _ in range(email_change.MAX_REQUESTS):
        email_change.request_code(db_session, admin, anna)
    with pytest.raises(ValidationFailed) as refused:
        email_change.request_code(db_session, admin, anna)
    assert refused.value.field == "request"
    assert db_session.query(MailMessage).filter_by(recipient=anna.email_normalized).count() == email_change.MAX_REQUESTS
    # the newest code still works, and an hour later codes can be requested again
    assert email_change.state(db_session, anna).step == "code_sent"
    for code in db_session.scalars(select(EmailChangeCode).where(EmailChangeCode.profile_id == anna.id)):
        code.created_at -= email_change.REQUEST_WINDOW
    email_change.request_code(db_session, admin, anna)
