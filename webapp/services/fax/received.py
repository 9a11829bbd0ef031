"""Received faxes: deposits from the platform (and the CLI), the list with search, page images
rendered by a job, fax to e-mail."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, joinedload

from ...db import after_commit
from ...models import PreviewStatus, ReceivedFax, UmsProfile
from .. import deposits, inbox, mail, phone, storage
from ..errors import NotFound, ValidationFailed
from ..links import external_url, local_time
from . import documents
from .settings import email_targets, profile_for_number, settings_of

PAGE_SIZE = 20
UNDO_SECONDS = 300
THUMB_WIDTH = 180
PAGE_WIDTH = 864

BOX = inbox.Box(
    model=ReceivedFax, read_column="read_at", file_columns=("pdf_key",), prefix_columns=("media_prefix",),
    not_found=_l("This fax does not exist or has been deleted."),
    select_one=_l("Select at least one fax."),
    not_restorable=_l("These faxes can no longer be restored."),
    audit_deleted="fax.received_deleted", undo_seconds=UNDO_SECONDS, kept_by="fax_box",
)


@dataclass(frozen=True)
class ReceivedQuery:
    only_new: bool = False
    sender: str = ""
    day_from: date | None = None
    day_until: date | None = None
    page: int = 1

# What the list of received faxes shows of the profile (its number), loaded with it.
LIST_LOAD = (joinedload(UmsProfile.assignments), joinedload(UmsProfile.fax_box))


@dataclass
class ReceivedPage:
    items: list[ReceivedFax]
    total: int
    page: int
    pages: int
    new_count: int
    query: ReceivedQuery


def new_count(session: Session, profile_id: int) -> int:
    return BOX.unread_count(session, profile_id)


def list_received(session: Session, profile: UmsProfile, query: ReceivedQuery, *, tz=None) -> ReceivedPage:
    """One page of received faxes, newest first, with the box's new count: one query whatever
    the box size (``inbox.Box.page``)."""
    conditions = []
    if query.only_new:
        conditions.append(ReceivedFax.read_at.is_(None))
    digits = inbox.caller_digits(query.sender)
    if digits:
        conditions.append(ReceivedFax.caller_e164.contains(digits, autoescape=True))
    elif query.sender.strip():
        conditions.append(ReceivedFax.station_id.contains(query.sender.strip()[:20], autoescape=True))
    conditions += inbox.day_conditions(ReceivedFax.received_at, query.day_from, tz, until=query.day_until)
    found = BOX.page(session, profile.id, conditions, query.page, PAGE_SIZE, counts=BOX.kept_counts(profile))
    return ReceivedPage(found.items, found.total, found.page, found.pages, found.unread,
                        ReceivedQuery(query.only_new, query.sender, query.day_from, query.day_until, found.page))


def received_of(session: Session, profile: UmsProfile, fax_id: int) -> ReceivedFax:
    return BOX.get(session, profile, fax_id)


def page_key(fax: ReceivedFax, number: int) -> str:
    return f"{fax.media_prefix}/page-{number}.png"


def thumb_key(fax: ReceivedFax) -> str:
    return f"{fax.media_prefix}/thumb.png"


# --- deposits --------------------------------------------------------------------------------


@dataclass
class DepositInput:
    called: str
    caller: str | None
    station_id: str | None
    received_at: str | None
    platform_fax_id: str
    document: bytes | None


def deposit(session: Session, data: DepositInput) -> tuple[ReceivedFax, bool]:
    """Store a fax the platform received (TIFF or PDF) as PDF; idempotent on ``platform_fax_id``.

    Unknown numbers raise NotFound (404); bad input ``ValidationFailed`` (422). The page images
    are rendered by a job after the commit; fax to e-mail is queued in the same transaction.
    """
    fax_id = deposits.platform_id(data.platform_fax_id, "platform_fax_id")
    called = deposits.called_number(data.called)
    caller = deposits.caller_number(data.caller)
    received = deposits.received_time(data.received_at)
    station = (data.station_id or "").strip()
    if len(station) > 20 or any(ord(c) < 32 for c in station):
        raise ValidationFailed(_l("station_id has more than 20 characters or control characters."),
                               field="station_id")
    checked = documents.check(data.document, field="document", max_pages=documents.MAX_RECEIVED_PAGES)
    if checked.kind not in ("pdf", "tiff"):
        raise ValidationFailed(_l("document must be a TIFF or PDF."), field="document")
    existing = deposits.existing(session, ReceivedFax.platform_fax_id, fax_id)
    if existing is not None:
        return existing, False
    profile = profile_for_number(session, called)
    if profile is None:
        raise NotFound(_l("No fax receives on %(number)s.", number=called))
    pdf, pages = documents.received_pdf(data.document, checked.kind)
    prefix = storage.new_key(f"fax/{profile.id}/received", "")
    key = f"{prefix}/fax.pdf"
    fax, created = deposits.insert_once(session, ReceivedFax(
        profile_id=profile.id, platform_fax_id=fax_id, called_e164=called, caller_e164=caller,
        station_id=station or None, received_at=received, pages=pages, size_bytes=len(pdf),
        media_prefix=prefix, pdf_key=key, preview_status=PreviewStatus.PENDING,
    ), ReceivedFax.platform_fax_id, fax_id, [])
    if not created:
        return fax, False
    storage.stage(session, key, pdf)  # in place once the row is committed, gone on a rollback
    BOX.purge_deleted(session, profile.id)
    settings = settings_of(session, profile)
    if settings.email_enabled:
        notify(session, profile, fax, pdf, email_targets(settings, profile))
    new_id = fax.id

    def _render() -> None:
        from ..fax_jobs import render_received

        render_received(new_id)

    after_commit(session, _render)
    return fax, True


def deposit_text(session: Session, number: str, text: str, *, caller: str | None = None,
                 station_id: str | None = None, received_at: datetime | None = None,
                 platform_fax_id: str | None = None, resolution: str = "fine") -> ReceivedFax:
    """A received fax made from ``text`` (as a G4 TIFF, like the platform sends): CLI, demo, tests."""
    tiff = documents.tiff(documents.text_pages(text, resolution), resolution)
    fax, _ = deposit(session, DepositInput(
        called=number, caller=caller, station_id=station_id,
        received_at=received_at.isoformat() if received_at else None,
        platform_fax_id=platform_fax_id or f"local-{secrets.token_hex(8)}", document=tiff,
    ))
    return fax


def render_pages(session: Session, fax_id: int) -> PreviewStatus | None:
    """Job body: the page images and thumbnail of a received fax, rendered once and kept."""
    fax = session.get(ReceivedFax, fax_id)
    if fax is None or fax.preview_status == PreviewStatus.READY:
        return fax.preview_status if fax else None
    try:
        pages = documents.render(storage.read(fax.pdf_key), "pdf", "fine", max_pages=documents.MAX_RECEIVED_PAGES)
    except (documents.DocumentRefused, storage.StorageError):
        fax.preview_status = PreviewStatus.FAILED
        session.flush()
        return fax.preview_status
    for number, page in enumerate(pages, start=1):
        storage.stage(session, page_key(fax, number), documents.preview_png(page, "fine", PAGE_WIDTH))
    storage.stage(session, thumb_key(fax), documents.preview_png(pages[0], "fine", THUMB_WIDTH))
    fax.preview_status = PreviewStatus.READY
    session.flush()
    return fax.preview_status


# --- fax to e-mail --------------------------------------------------------------------------


def notify(session: Session, profile: UmsProfile, fax: ReceivedFax, pdf: bytes, addresses: list[str]) -> None:
    stamp = local_time(fax.received_at).strftime("%Y%m%d-%H%M%S")
    sender = phone.display(fax.caller_e164) if fax.caller_e164 else (fax.station_id or None)
    for address in addresses:
        mail.queue(
            session, address, "fax_received",
            subject=_l("Fax from %(sender)s (%(pages)s pages)", sender=_Sender(sender), pages=fax.pages),
            locale=profile.language or "de",
            attachment=(f"fax-{stamp}.pdf", "application/pdf", pdf),
            profile=profile, fax=fax, sender=sender,
            signin_link=external_url("fax.index", profile_id=profile.id) + f"#fax-in-{fax.id}",
        )


class _Sender:
    def __init__(self, text: str | None):
        self.text = text

    def __str__(self) -> str:
        return self.text or str(_l("Unbekannt"))
