"""Reading the audit trail for admins: who did what to which profile and when.

Entries are written by the services (``audit.record``); this module only reads them, limited to
the customers whose UMS the reader may manage.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import Session

from ..models import AuditEntry, Customer, User
from . import authz
from .profiles import printable, refusal_without_customers, valid_id

PER_PAGE = 50

ACTION_LABELS = {
    "profile.created": _l("Profile created"),
    "profile.updated": _l("Profile edited"),
    "profile.deleted": _l("Profile deleted"),
    "profile.invitation_sent": _l("Invitation sent again"),
    "number.assigned": _l("Number assigned"),
    "number.released": _l("Number released"),
    "email_change.code_requested": _l("Code for e-mail change requested"),
    "email_change.code_voided": _l("Code voided after wrong tries"),
    "email_change.changed": _l("E-mail address changed"),
    "voicemail.settings_changed": _l("Voicemail settings changed"),
    "voicemail.pin_changed": _l("Voicemail PIN changed"),
    "voicemail.pin_locked": _l("Phone access locked after wrong PINs"),
    "voicemail.greeting_activated": _l("Greeting activated"),
    "voicemail.greeting_standard": _l("Standard greeting restored"),
    "voicemail.messages_deleted": _l("Voicemail messages deleted"),
    "voicemail.message_played": _l("Voice message played by an administrator"),
    "voicemail.message_downloaded": _l("Voice message downloaded by an administrator"),
}

DETAIL_LABELS = {
    "contract": _l("Vertrag / Enterprise"),
    "site": _l("Standort / Gruppe"),
    "email": _l("E-Mail-Adresse"),
    "last_name": _l("Name"),
    "first_name": _l("Vorname"),
    "service": _l("Service"),
    "number": _l("Number"),
    "previous": _l("Previous number"),
    "numbers_released": _l("Numbers released"),
    "old": _l("Previous address"),
    "new": _l("New address"),
    "attempts": _l("Wrong tries"),
    "kind": _l("Greeting"),
    "source": _l("Source"),
    "count": _l("Count"),
}


def _voicemail_labels(key: str) -> dict:
    from .voicemail import GREETING_LABELS, SOURCE_LABELS

    labels = GREETING_LABELS if key == "kind" else SOURCE_LABELS
    return {getattr(k, "value", k): v for k, v in labels.items()}


def details(entry: AuditEntry) -> list[tuple[str, str]]:
    """An entry's details as (label, text) pairs a customer can read: field names translated,
    numbers in national format, changes as „old → new“."""
    from .dashboard import SERVICE_LABELS
    from .phone import display

    rows: list[tuple[str, str]] = []
    for key, value in (entry.detail or {}).items():
        if value in (None, "", [], {}):
            continue
        if key == "changes" and isinstance(value, dict):
            rows.extend((str(DETAIL_LABELS.get(k, k)), " → ".join(map(str, v))) for k, v in value.items())
            continue
        if key == "service" and value in SERVICE_LABELS:
            text = str(SERVICE_LABELS[value])
        elif key in ("kind", "source") and value in _voicemail_labels(key):
            text = str(_voicemail_labels(key)[value])
        elif key in ("number", "previous") and isinstance(value, str):
            text = display(value)
        elif key == "numbers_released" and isinstance(value, list):
            text = ", ".join(display(v) if isinstance(v, str) and v.startswith("+") else str(v) for v in value)
        elif isinstance(value, list):
            text = ", ".join(map(str, value))
        else:
            text = str(value)
        rows.append((str(DETAIL_LABELS.get(key, key)), text))
    return rows


@dataclass(frozen=True)
class AuditFilter:
    customer_id: int | None = None
    action: str = ""
    q: str = ""
    profile_id: int | None = None
    page: int = 1
    per_page: int = PER_PAGE


@dataclass
class AuditPage:
    entries: list[AuditEntry]
    total: int
    filter: AuditFilter
    customers: list[Customer]

    @property
    def pages(self) -> int:
        return max((self.total + self.filter.per_page - 1) // self.filter.per_page, 1)

    @property
    def customers_by_id(self) -> dict[int, Customer]:
        return {c.id: c for c in self.customers}


def can_read(session: Session, user: User) -> authz.Decision:
    if authz.customers_with_ums_access(session, user):
        return authz.ALLOW
    return authz.Decision(False, refusal_without_customers(session, user))


def entries(session: Session, user: User, flt: AuditFilter) -> AuditPage:
    customers = authz.customers_with_ums_access(session, user)
    if not customers:
        can_read(session, user).require()
    ids = [c.id for c in customers]
    if flt.customer_id is not None:
        ids = [i for i in ids if i == flt.customer_id]
    conditions = [AuditEntry.customer_id.in_(ids)]
    if flt.action:
        conditions.append(AuditEntry.action == flt.action if flt.action in ACTION_LABELS else false())
    if flt.profile_id is not None:
        # An id that cannot exist matches nothing (and never reaches SQL as an overflow).
        conditions.append(AuditEntry.profile_id == flt.profile_id if valid_id(flt.profile_id) else false())
    term = printable(flt.q).strip().lower()
    if term:
        like = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(or_(func.lower(AuditEntry.subject).like(like, escape="\\"),
                              func.lower(AuditEntry.actor_email).like(like, escape="\\")))
    where = and_(*conditions)
    total = session.scalar(select(func.count()).select_from(AuditEntry).where(where)) or 0
    pages = max((total + flt.per_page - 1) // flt.per_page, 1)
    page = min(max(flt.page, 1), pages)
    if page != flt.page:
        flt = replace(flt, page=page)
    rows = list(session.scalars(
        select(AuditEntry).where(where).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(flt.per_page).offset((page - 1) * flt.per_page)))
    return AuditPage(rows, total, flt, customers)
