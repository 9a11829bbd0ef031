"""Fax settings of a profile (fax to e-mail, Kopfzeile, station ID) and the fax number."""

from __future__ import annotations

import re
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import FaxSettings, PhoneNumber, Service, ServiceAssignment, UmsProfile, User
from .. import audit
from ..errors import ValidationFailed

MAX_ADDRESSES = 5
HEADER_MAX = 50
STATION_MAX = 20


def number_row(session: Session, profile: UmsProfile) -> PhoneNumber | None:
    """The profile's fax number (shown with its block extension), None when none is assigned."""
    from ..numbers import assignment_of

    found = assignment_of(session, profile, Service.FAX)
    return found.number if found else None


def number_of(session: Session, profile: UmsProfile) -> str | None:
    found = number_row(session, profile)
    return found.e164 if found else None


def profile_for_number(session: Session, e164: str) -> UmsProfile | None:
    """The profile whose fax receives on ``e164``."""
    return session.scalar(
        select(UmsProfile)
        .join(ServiceAssignment, ServiceAssignment.profile_id == UmsProfile.id)
        .join(PhoneNumber, PhoneNumber.id == ServiceAssignment.number_id)
        .where(PhoneNumber.e164 == e164, ServiceAssignment.service == Service.FAX)
    )


def settings_of(session: Session, profile: UmsProfile, *, for_update: bool = False) -> FaxSettings:
    found = session.get(FaxSettings, profile.id)
    if found is None:
        found = FaxSettings(profile_id=profile.id, email_enabled=False)
        if for_update:
            session.add(found)
            session.flush()
    return found


def email_targets(settings: FaxSettings, profile: UmsProfile) -> list[str]:
    return [a for a in (settings.email_addresses or "").split(",") if a] or [profile.email]


@dataclass
class SettingsInput:
    email_enabled: bool
    email_addresses: str  # comma, semicolon or line separated; empty: the profile's address
    header_line: str
    station_id: str


def parse_addresses(text: str) -> list[str]:
    parts = [p.strip() for p in re.split(r"[,;\s]+", text or "") if p.strip()]
    if len(parts) > MAX_ADDRESSES:
        raise ValidationFailed(_l("At most 5 addresses."), field="email_addresses")
    found = []
    for part in parts:
        try:
            address = validate_email(part, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise ValidationFailed(_l("„%(address)s“ is not a valid e-mail address.", address=part[:80]),
                                   field="email_addresses") from exc
        if address not in found:
            found.append(address)
    return found


def header_problem(text: str):
    if len(text) > HEADER_MAX:
        return _l("The Kopfzeile can have at most 50 characters.")
    if any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in text):
        return _l("The Kopfzeile must be one line of printable characters.")
    return None


def station_problem(text: str):
    if len(text) > STATION_MAX or not re.fullmatch(r"[0-9+ ]*", text):
        return _l("The station ID can have at most 20 characters: digits, + and spaces.")
    return None


def update_settings(session: Session, user: User, profile: UmsProfile, data: SettingsInput) -> FaxSettings:
    addresses = parse_addresses(data.email_addresses)
    header = (data.header_line or "").strip()
    station = (data.station_id or "").strip()
    if problem := header_problem(header):
        raise ValidationFailed(problem, field="header_line")
    if problem := station_problem(station):
        raise ValidationFailed(problem, field="station_id")
    settings = settings_of(session, profile, for_update=True)
    settings.email_enabled = data.email_enabled
    settings.email_addresses = ",".join(addresses) or None
    settings.header_line = header or None
    settings.station_id = station or None
    session.flush()
    audit.record(session, user, "fax.settings_changed", customer_id=profile.customer_id,
                 profile_id=profile.id, subject=profile.email)
    return settings
