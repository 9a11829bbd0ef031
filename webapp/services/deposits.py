"""Checking what the telephony platform deposits on the signed ``/api/v1`` (voicemail messages,
received faxes, recordings): its id, numbers and time, and storing each deposit exactly once."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import phonenumbers
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import utcnow
from . import storage
from .errors import ValidationFailed

EARLIEST_DEPOSIT = datetime(2000, 1, 1, tzinfo=UTC)
WITHHELD = {"", "anonymous", "unknown", "withheld", "restricted", "private", "unavailable"}


def normalize_number(value: str | None) -> str | None:
    """E.164 of a German-context number, or None when it is not a valid number."""
    if not value or not value.strip():
        return None
    try:
        parsed = phonenumbers.parse(value.strip(), "DE")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def platform_id(value: str | None, field: str) -> str:
    found = (value or "").strip()
    if not re.fullmatch(r"[A-Za-z0-9._:@-]{1,100}", found):
        raise ValidationFailed(_l("%(field)s is missing or has characters other than letters, digits and ._:@-.",
                                  field=field), field=field)
    return found


def called_number(value: str | None, field: str = "called") -> str:
    found = normalize_number(value)
    if found is None:
        raise ValidationFailed(_l("%(field)s is missing or not a phone number.", field=field), field=field)
    return found


def caller_number(value: str | None, field: str = "caller") -> str | None:
    """E.164 of the caller, None when withheld; anything else is a platform fault."""
    if (value or "").strip().lower() in WITHHELD:
        return None
    found = normalize_number(value)
    if found is None:
        raise ValidationFailed(_l("%(field)s is not a phone number (leave it empty when withheld).", field=field),
                               field=field)
    return found


def received_time(value: str | None, field: str = "received_at") -> datetime:
    """The ISO 8601 time of a deposit in UTC (now when not given); implausible times are refused."""
    if not value:
        return utcnow()
    try:
        received = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        received = received.replace(tzinfo=UTC) if received.tzinfo is None else received.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise ValidationFailed(_l("%(field)s is not an ISO 8601 time.", field=field), field=field) from exc
    # A time the list could not show sensibly (year 1, next century) is a platform fault.
    if not EARLIEST_DEPOSIT <= received <= utcnow() + timedelta(days=1):
        raise ValidationFailed(_l("%(field)s is not plausible: it lies before 2000 or more than a day ahead.",
                                  field=field), field=field)
    return received


def existing(session: Session, id_column, value: str):
    """The row already stored for the platform id ``value``, if any."""
    return session.scalar(select(id_column.class_).where(id_column == value))


def insert_once(session: Session, row, id_column, value: str, keys: list[str]):
    """Insert ``row``; when a concurrent deposit with the same platform id won, remove the files
    ``keys`` written for this one and return the stored row. Returns (row, created)."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        for key in keys:
            storage.delete(key)
        found = existing(session, id_column, value)
        if found is None:
            raise
        return found, False
    return row, True
