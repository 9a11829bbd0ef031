"""What the UMS-User-Dashboard shows: the three services of a profile with their numbers."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..models import PhoneNumber, Service, ServiceAssignment, UmsProfile

SERVICE_LABELS = {
    Service.FAX: _l("Fax"),
    Service.VOICEMAIL: _l("Anrufbeantworter"),
    Service.CONFERENCE: _l("Konferenz"),
}
SERVICE_ORDER = (Service.FAX, Service.VOICEMAIL, Service.CONFERENCE)
SERVICE_ENDPOINTS = {
    Service.FAX: "fax.index",
    Service.VOICEMAIL: "voicemail.index",
    Service.CONFERENCE: "conference.index",
}

NO_PROFILE_REASON = _l("Your login has no UMS profile. Your administrator creates one for you.")


@dataclass(frozen=True)
class ServiceCard:
    service: Service
    label: str
    number: PhoneNumber | None
    endpoint: str


def service_card(session: Session, profile: UmsProfile, service: Service) -> ServiceCard:
    """One service of a profile with its number (None when the admin has not assigned one)."""
    return next(card for card in service_cards(session, profile) if card.service == service)


def service_cards(session: Session, profile: UmsProfile) -> list[ServiceCard]:
    assignments = {
        a.service: a
        for a in session.scalars(
            select(ServiceAssignment)
            .where(ServiceAssignment.profile_id == profile.id)
            .options(selectinload(ServiceAssignment.number))
        )
    }
    return [
        ServiceCard(
            service=service,
            label=SERVICE_LABELS[service],
            number=assignments[service].number if service in assignments else None,
            endpoint=SERVICE_ENDPOINTS[service],
        )
        for service in SERVICE_ORDER
    ]
