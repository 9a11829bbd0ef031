"""Reading the audit trail for admins: who did what to which profile and when.

Entries are written by the services (``audit.record``); this module only reads them, limited to
the customers whose UMS the reader may manage.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import Session

from ..models import AuditEntry, Customer, User
from . import authz, phone
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
    "conference.room_created": _l("Conference room set up"),
    "conference.pin_changed": _l("Conference PIN changed"),
    "conference.pin_taken": _l("Conference PIN refused (already in use)"),
    "conference.settings_changed": _l("Conference settings changed"),
    "conference.meeting_scheduled": _l("Meeting scheduled"),
    "conference.meeting_changed": _l("Meeting changed"),
    "conference.meeting_cancelled": _l("Meeting cancelled"),
    "conference.recordings_deleted": _l("Conference recordings deleted"),
    "conference.mute": _l("Conference participant muted"),
    "conference.unmute": _l("Conference participant unmuted"),
    "conference.mute_all": _l("All conference participants muted"),
    "conference.unmute_all": _l("All conference participants unmuted"),
    "conference.remove": _l("Conference participant removed"),
    "conference.lock": _l("Conference room locked"),
    "conference.unlock": _l("Conference room unlocked"),
    "order.placed": _l("Order placed („Beauftragen“)"),
    "order.provisioned": _l("Order provisioned"),
    "order.refused": _l("Order refused"),
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
    "order": _l("Order"),
    "lines": _l("Lines"),
    "contracts": _l("Contracts"),
    "reason": _l("Reason"),
}


def _voicemail_labels(key: str) -> dict:
    from .voicemail import GREETING_LABELS, SOURCE_LABELS

    labels = GREETING_LABELS if key == "kind" else SOURCE_LABELS
    return {getattr(k, "value", k): v for k, v in labels.items()}


def details(entry: AuditEntry, numbers: dict | None = None) -> list[tuple[str, str]]:
    """An entry's details as (label, text) pairs a customer can read: field names translated,
    numbers as everywhere (``phone.display``, the extension set off when ``numbers`` knows the
    number's block), changes as „old → new“."""
    from .dashboard import SERVICE_LABELS

    numbers = numbers or {}

    def display(value: str) -> str:
        return phone.display(numbers.get(value, value))

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
    numbers: dict = field(default_factory=dict)  # E.164 → PhoneNumber of the page's numbers

    @property
    def pages(self) -> int:
        return max((self.total + self.filter.per_page - 1) // self.filter.per_page, 1)

    @property
    def customers_by_id(self) -> dict[int, Customer]:
        return {c.id: c for c in self.customers}

    def describe(self, entry: AuditEntry) -> list[tuple[str, str]]:
        return details(entry, self.numbers)


def can_read(session: Session, user: User) -> authz.Decision:
    if authz.customers_with_ums_access(session, user):
        return authz.ALLOW
    return authz.Decision(False, refusal_without_customers(session, user))


def _condition(session: Session, user: User, flt: AuditFilter):
    """The customers the reader may see and the filter's WHERE clause."""
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
    return customers, and_(*conditions)


def entries(session: Session, user: User, flt: AuditFilter) -> AuditPage:
    customers, where = _condition(session, user, flt)
    total = session.scalar(select(func.count()).select_from(AuditEntry).where(where)) or 0
    pages = max((total + flt.per_page - 1) // flt.per_page, 1)
    page = min(max(flt.page, 1), pages)
    if page != flt.page:
        flt = replace(flt, page=page)
    rows = list(session.scalars(
        select(AuditEntry).where(where).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(flt.per_page).offset((page - 1) * flt.per_page)))
    return AuditPage(rows, total, flt, customers, numbers=phone.numbers_by_e164(session, _numbers_in(rows)))


def _numbers_in(rows: list[AuditEntry]) -> set[str]:
    found: set[str] = set()
    for entry in rows:
        for key, value in (entry.detail or {}).items():
            if key in ("number", "previous") and isinstance(value, str):
                found.add(value)
            elif key == "numbers_released" and isinstance(value, list):
                found.update(v for v in value if isinstance(v, str))
    return found


def iter_entries(session: Session, user: User, flt: AuditFilter, batch: int = 500):
    """Every entry the filter finds, newest first, fetched in batches (the CSV export):
    (entry, customer number, its details as (label, text) pairs)."""
    customers, where = _condition(session, user, flt)
    numbers_of = {c.id: c.number for c in customers}
    offset = 0
    while True:
        rows = list(session.scalars(select(AuditEntry).where(where)
                                    .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                                    .limit(batch).offset(offset)))
        numbers = phone.numbers_by_e164(session, _numbers_in(rows))
        for entry in rows:
            yield entry, numbers_of.get(entry.customer_id, ""), details(entry, numbers)
        if len(rows) < batch:
            return
        offset += batch


def csv_header() -> list[str]:
    return [str(_l("When")), str(_l("Who")), str(_l("Action")), str(_l("Profile")), str(_l("Customer")),
            str(_l("Details"))]


def csv_rows(session: Session, user: User, flt: AuditFilter):
    """The rows of the audit CSV export, as the page shows them."""
    from flask_babel import to_user_timezone

    for entry, customer_number, pairs in iter_entries(session, user, flt):
        yield [to_user_timezone(entry.at), entry.actor_email, str(ACTION_LABELS.get(entry.action, entry.action)),
               entry.subject, customer_number, "; ".join(f"{label}: {text}" for label, text in pairs)]
