"""Number-to-service assignment („schwenken“, domain.md §3): each service of a profile is bound
to at most one extension of the profile's site; a number serves at most one service platform-wide
(unique ``service_assignments.number_id``). Releasing keeps the service's data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, inspect, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import PhoneNumber, Service, ServiceAssignment, UmsProfile, User, utcnow
from . import audit, authz, phone, platform
from .dashboard import SERVICE_LABELS, SERVICE_ORDER
from .errors import NotFound, NumberTaken, ValidationFailed
from .profiles import valid_id

FREE_NUMBER_LIMIT = 50


@dataclass(frozen=True)
class ServiceRow:
    service: Service
    label: str
    assignment: ServiceAssignment | None

    @property
    def number(self) -> PhoneNumber | None:
        return self.assignment.number if self.assignment else None


def parse_service(value: str) -> Service:
    try:
        return Service(value)
    except ValueError as exc:
        raise NotFound(_l("This service does not exist.")) from exc


def service_rows(session: Session, profile: UmsProfile) -> list[ServiceRow]:
    """One row per service (Fax, Anrufbeantworter, Konferenz) with its number, if any."""
    by_service = {a.service: a for a in session.scalars(
        select(ServiceAssignment).where(ServiceAssignment.profile_id == profile.id))}
    return [ServiceRow(s, SERVICE_LABELS[s], by_service.get(s)) for s in SERVICE_ORDER]


def _number_in_use(number_id):
    return exists().where(ServiceAssignment.number_id == number_id)


def free_numbers(session: Session, profile: UmsProfile, q: str = "",
                 limit: int = FREE_NUMBER_LIMIT) -> list[PhoneNumber]:
    """Numbers of the profile's site that serve nothing anywhere. ``q`` is an extension or part of
    the number, or the start of it in national (030 …) or international (+49 …) form."""
    query = select(PhoneNumber).where(PhoneNumber.site_id == profile.site_id,
                                      ~_number_in_use(PhoneNumber.id))
    raw = (q or "").strip()
    digits = re.sub(r"\D", "", raw)
    if raw.startswith("+") and digits:
        query = query.where(PhoneNumber.e164.startswith("+" + digits))
    elif digits.startswith("0") and len(digits) >= 3:  # national form, e.g. 030 1234567-15
        query = query.where(PhoneNumber.e164.startswith("+49" + digits[1:]))
    elif digits:
        query = query.where(or_(PhoneNumber.extension.startswith(digits),
                                PhoneNumber.e164.contains(digits)))
    # Extensions are stored as text: order by length first so -2 comes before -10.
    return list(session.scalars(
        query.order_by(PhoneNumber.block_id, func.length(PhoneNumber.extension), PhoneNumber.extension)
        .limit(limit)))


def assignment_of(session: Session, profile: UmsProfile, service: Service) -> ServiceAssignment | None:
    """The profile's assignment of ``service`` with its number, for showing it: taken from the
    profile's assignments where they were loaded with the profile (a page's one query), else read."""
    if "assignments" not in inspect(profile).unloaded:
        return next((a for a in profile.assignments if a.service == service), None)
    return _assignment(session, profile, service)


def _assignment(session: Session, profile: UmsProfile, service: Service) -> ServiceAssignment | None:
    return session.scalar(select(ServiceAssignment).where(
        ServiceAssignment.profile_id == profile.id, ServiceAssignment.service == service))


def _taken_error(number: PhoneNumber) -> NumberTaken:
    return NumberTaken(
        _l("The number %(number)s already serves another service. Please choose a free number of this site.",
           number=phone.display(number)),
        field="number_id",
    )


def assign_number(session: Session, actor: User, profile: UmsProfile, service: Service,
                  number_id: int | None) -> ServiceAssignment:
    """Bind ``service`` of ``profile`` to a free number of its site (replacing its current one)."""
    authz.can_manage_ums(session, actor, profile.customer).require()
    # Lock the profile (and read its site afresh): a parallel site change waits for this
    # assignment, or this assignment sees the new site; a number never serves a foreign site.
    session.refresh(profile, with_for_update=True)
    number = session.get(PhoneNumber, number_id) if valid_id(number_id) else None
    if number is None or number.site_id != profile.site_id:
        raise ValidationFailed(_l("Please choose a number of the site %(site)s.", site=profile.site.name),
                               field="number_id")
    # Lock the number row so parallel assignments of it queue up; the unique number_id backs it.
    session.execute(select(PhoneNumber.id).where(PhoneNumber.id == number.id).with_for_update())
    assignment = _assignment(session, profile, service)
    if assignment is not None and assignment.number_id == number.id:
        return assignment
    if session.scalar(select(_number_in_use(number.id))):
        raise _taken_error(number)
    previous = assignment.number.e164 if assignment is not None and assignment.number else None
    try:
        with session.begin_nested():
            if assignment is None:
                assignment = ServiceAssignment(profile_id=profile.id, service=service)
                session.add(assignment)
            assignment.number_id = number.id
            assignment.assigned_at = utcnow()
            session.flush()
    except IntegrityError as exc:
        raise _taken_error(number) from exc
    session.refresh(assignment, ["number"])
    audit.record(session, actor, "number.assigned", customer_id=profile.customer_id, profile_id=profile.id,
                 subject=f"{profile.first_name} {profile.last_name} <{profile.email_normalized}>",
                 service=service.value, number=number.e164, previous=previous)
    if previous:
        platform.emit(session, "number.released", profile_id=profile.id, service=service.value,
                      number=previous)
    platform.emit(session, "number.assigned", profile_id=profile.id, service=service.value,
                  number=number.e164, email=profile.email_normalized)
    session.flush()
    return assignment


def release_number(session: Session, actor: User, profile: UmsProfile, service: Service) -> PhoneNumber | None:
    """Unbind the service's number; the service and its data stay with the profile. Returns the
    released number (for the undo offer), None if the service had none."""
    authz.can_manage_ums(session, actor, profile.customer).require()
    assignment = _assignment(session, profile, service)
    if assignment is None or assignment.number is None:
        return None
    number = assignment.number
    released = number.e164
    assignment.number_id = None
    assignment.number = None
    assignment.assigned_at = None
    audit.record(session, actor, "number.released", customer_id=profile.customer_id, profile_id=profile.id,
                 subject=f"{profile.first_name} {profile.last_name} <{profile.email_normalized}>",
                 service=service.value, number=released)
    platform.emit(session, "number.released", profile_id=profile.id, service=service.value, number=released)
    session.flush()
    return number


def released_offer(session: Session, profile: UmsProfile, service: str,
                   number_id: int | None) -> tuple[Service, PhoneNumber] | None:
    """The undo offer for a release: the number, while it is a free number of the profile's site
    and the service has none."""
    try:
        svc = Service(service)
    except ValueError:
        return None
    number = session.get(PhoneNumber, number_id) if valid_id(number_id) else None
    if number is None or number.site_id != profile.site_id or session.scalar(select(_number_in_use(number.id))):
        return None
    current = _assignment(session, profile, svc)
    if current is not None and current.number_id is not None:
        return None
    return svc, number
