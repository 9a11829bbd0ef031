"""Sending faxes: a draft collects documents (in an order the user sets), the destination,
resolution and an optional cover page; a job renders the exact preview; „Senden“ queues it; the
transmission job converts to TIFF Class F and hands it to the platform; status callbacks (from
the platform or its embedded simulator) move it on, with retries for busy and no answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import phonenumbers
from flask import current_app
from flask_babel import lazy_gettext as _l
from phonenumbers import shortnumberinfo
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ...db import after_commit
from ...models import (
    FaxDocument,
    FaxResolution,
    FaxStatus,
    PreviewStatus,
    SentFax,
    UmsProfile,
    User,
    utcnow,
)
from .. import audit, inbox, mail, phone, platform, storage
from ..errors import NotFound, ValidationFailed
from ..links import external_url, local_time
from . import documents
from .settings import number_of, settings_of

PAGE_SIZE = 20
MAX_DOCUMENTS = 10
FINAL = (FaxStatus.SENT, FaxStatus.BUSY, FaxStatus.NO_ANSWER, FaxStatus.FAILED)
IN_FLIGHT = (FaxStatus.QUEUED, FaxStatus.CONVERTING, FaxStatus.SENDING)
RETRYABLE = (FaxStatus.BUSY, FaxStatus.NO_ANSWER)
PREVIEW_WIDTH = 864

STATUS_LABELS = {
    FaxStatus.DRAFT: _l("Entwurf"),
    FaxStatus.QUEUED: _l("In Warteschlange"),
    FaxStatus.CONVERTING: _l("Wird umgewandelt"),
    FaxStatus.SENDING: _l("Wird gesendet"),
    FaxStatus.SENT: _l("Gesendet"),
    FaxStatus.BUSY: _l("Besetzt"),
    FaxStatus.NO_ANSWER: _l("Keine Antwort"),
    FaxStatus.FAILED: _l("Fehlgeschlagen"),
}
RESOLUTION_LABELS = {
    FaxResolution.NORMAL: _l("Normal (204 × 98 dpi)"),
    FaxResolution.FINE: _l("Fein (204 × 196 dpi)"),
}

BOX = inbox.Box(
    model=SentFax, read_column=None, file_columns=("tiff_key", "report_key"), prefix_columns=("media_prefix",),
    not_found=_l("This fax does not exist or has been deleted."),
    select_one=_l("Select at least one fax."),
    not_restorable=_l("These faxes can no longer be restored."),
    audit_deleted="fax.sent_deleted",
)


def retry_seconds() -> int:
    return int(current_app.config.get("FAX_RETRY_SECONDS", 120))


def max_attempts() -> int:
    return max(1, int(current_app.config.get("FAX_MAX_ATTEMPTS", 3)))


# --- destination ----------------------------------------------------------------------------


def destination_of(value: str | None, own_number: str | None) -> str:
    """E.164 of a number a fax can go to; refuses emergency and premium-rate numbers, short codes
    and the profile's own fax number, each with its reason."""
    text = (value or "").strip()
    if not text:
        raise ValidationFailed(_l("Please enter the fax number of the recipient."), field="destination")
    digits = "".join(c for c in text if c.isdigit())
    if shortnumberinfo.is_emergency_number(digits, "DE"):
        raise ValidationFailed(_l("Emergency numbers cannot receive faxes."), field="destination")
    try:
        parsed = phonenumbers.parse(text, "DE")
    except phonenumbers.NumberParseException as exc:
        raise ValidationFailed(_l("This is not a phone number."), field="destination") from exc
    if shortnumberinfo.is_valid_short_number(parsed) or len(str(parsed.national_number)) < 6:
        raise ValidationFailed(_l("Short codes cannot receive faxes."), field="destination")
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationFailed(_l("This is not a valid phone number."), field="destination")
    if phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.PREMIUM_RATE:
        raise ValidationFailed(_l("Premium-rate numbers (0900 …) are not allowed as fax destination."),
                               field="destination")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if own_number and e164 == own_number:
        raise ValidationFailed(_l("This is your own fax number."), field="destination")
    return e164


# --- drafts ---------------------------------------------------------------------------------


def new_draft(session: Session, user: User, profile: UmsProfile) -> SentFax:
    fax = SentFax(profile_id=profile.id, status=FaxStatus.DRAFT, resolution=FaxResolution.FINE, attempts=0,
                  max_attempts=max_attempts(), pages=0, media_prefix=storage.new_key(f"fax/{profile.id}/sent", ""),
                  preview_status=PreviewStatus.READY, preview_version=0)
    session.add(fax)
    session.flush()
    return fax


def fax_of(session: Session, profile: UmsProfile, fax_id: int) -> SentFax:
    return BOX.get(session, profile, fax_id)


def draft_of(session: Session, profile: UmsProfile, fax_id: int) -> SentFax:
    fax = fax_of(session, profile, fax_id)
    if fax.status != FaxStatus.DRAFT:
        raise ValidationFailed(_l("This fax has been sent already and cannot be changed."))
    return fax


def _changed(session: Session, fax: SentFax) -> None:
    """The content changed: a new preview is rendered by a job after the commit."""
    fax.preview_version += 1
    if not fax.documents and not fax.cover_enabled:
        fax.preview_status, fax.pages = PreviewStatus.READY, 0
        session.flush()
        return
    fax.preview_status = PreviewStatus.PENDING
    fax.preview_error = None
    session.flush()
    fax_id, version = fax.id, fax.preview_version

    def _render() -> None:
        from ..fax_jobs import render_preview

        render_preview(fax_id, version)

    after_commit(session, _render)


def add_document(session: Session, user: User, profile: UmsProfile, fax: SentFax, filename: str | None,
                 data: bytes | None) -> FaxDocument:
    """Check an upload (kind by content, size, encryption, pages) and add it at the end."""
    checked = documents.check(data, field="file")
    if len(fax.documents) >= MAX_DOCUMENTS:
        raise ValidationFailed(_l("A fax can have at most 10 documents."), field="file")
    if sum(d.pages for d in fax.documents) + checked.pages > documents.MAX_PAGES:
        raise ValidationFailed(_l("Together the documents would have more than 50 pages."), field="file")
    suffix = {"pdf": ".pdf", "jpeg": ".jpg", "png": ".png", "tiff": ".tif"}[checked.kind]
    key = storage.stage(session, storage.new_key(f"{fax.media_prefix}/documents", suffix), data)
    document = FaxDocument(position=len(fax.documents), filename=(filename or "dokument")[:255], kind=checked.kind,
                           key=key, pages=checked.pages, size_bytes=len(data))
    fax.documents.append(document)
    session.flush()
    _changed(session, fax)
    return document


def document_of(fax: SentFax, document_id: int) -> FaxDocument:
    found = next((d for d in fax.documents if d.id == document_id), None) if inbox.valid_id(document_id) else None
    if found is None:
        raise NotFound(_l("This document is not part of the fax."))
    return found


def remove_document(session: Session, user: User, profile: UmsProfile, fax: SentFax, document_id: int) -> None:
    document = document_of(fax, document_id)
    key = document.key
    fax.documents.remove(document)
    for position, other in enumerate(fax.documents):
        other.position = position
    session.flush()
    after_commit(session, lambda: storage.delete(key))
    _changed(session, fax)


def move_document(session: Session, user: User, profile: UmsProfile, fax: SentFax, document_id: int,
                  step: int) -> None:
    document = document_of(fax, document_id)
    ordered = list(fax.documents)
    index = ordered.index(document)
    target = min(max(0, index + step), len(ordered) - 1)
    if target == index:
        return
    ordered.insert(target, ordered.pop(index))
    for position, other in enumerate(ordered):
        other.position = position
    fax.documents.sort(key=lambda d: d.position)
    session.flush()
    _changed(session, fax)


@dataclass
class DraftInput:
    destination: str
    resolution: FaxResolution
    cover_enabled: bool
    cover_from: str
    cover_to: str
    cover_subject: str
    cover_note: str
    send_after: datetime | None = None


def update_draft(session: Session, user: User, profile: UmsProfile, fax: SentFax, data: DraftInput, *,
                 check_destination: bool = True) -> SentFax:
    if data.destination.strip() or check_destination:
        fax.destination_e164 = destination_of(data.destination, number_of(session, profile))
    if data.send_after is not None and data.send_after < utcnow() - timedelta(minutes=1):
        raise ValidationFailed(_l("The time to send lies in the past."), field="send_after")
    if len(data.cover_note or "") > 2000:
        raise ValidationFailed(_l("The note can have at most 2000 characters."), field="cover_note")
    before = (fax.resolution, fax.cover_enabled, fax.cover_from, fax.cover_to, fax.cover_subject, fax.cover_note)
    fax.resolution = data.resolution
    fax.cover_enabled = data.cover_enabled
    fax.cover_from = (data.cover_from or "").strip()[:100] or None
    fax.cover_to = (data.cover_to or "").strip()[:100] or None
    fax.cover_subject = (data.cover_subject or "").strip()[:200] or None
    fax.cover_note = (data.cover_note or "").strip() or None
    fax.send_after = data.send_after
    session.flush()
    if before != (fax.resolution, fax.cover_enabled, fax.cover_from, fax.cover_to, fax.cover_subject, fax.cover_note):
        _changed(session, fax)
    return fax


# --- pages ----------------------------------------------------------------------------------


def body_key(fax: SentFax) -> str:
    return f"{fax.media_prefix}/body-v{fax.preview_version}.tif"


def preview_key(fax: SentFax, number: int) -> str:
    return f"{fax.media_prefix}/preview-v{fax.preview_version}-{number}.png"


def cover_page(fax: SentFax, profile: UmsProfile, resolution: str) -> object:
    lines = [(str(_l("Fax")), 90), ("", 40)]
    for label, value in ((_l("From"), fax.cover_from or profile.full_name), (_l("To"), fax.cover_to),
                         (_l("Fax number"), phone.display(fax.destination_e164) if fax.destination_e164 else None),
                         (_l("Subject"), fax.cover_subject)):
        if value:
            lines.append((f"{label}: {value}", 44))
    lines.append(("", 40))
    for paragraph in (fax.cover_note or "").splitlines():
        lines.append((paragraph, 38))
    return documents.text_page(lines, resolution)


def _header_lines(fax: SentFax, pages: list, moment: datetime) -> list:
    stamp = local_time(moment)
    return [documents.header(page, documents.header_text(stamp, fax.header_line, fax.station_id, number, len(pages)))
            for number, page in enumerate(pages, start=1)]


def render_preview(session: Session, fax_id: int, version: int) -> PreviewStatus | None:
    """Job body: render every page exactly as it will be transmitted (fax resolution, 1-bit, with
    the Kopfzeile) and keep the pages without Kopfzeile for the transmission."""
    fax = session.get(SentFax, fax_id)
    if fax is None or fax.preview_version != version or fax.status != FaxStatus.DRAFT:
        return None  # a newer change renders its own preview
    profile = session.get(UmsProfile, fax.profile_id)
    settings = settings_of(session, profile)
    fax.header_line, fax.station_id = settings.header_line, settings.station_id
    resolution = fax.resolution.value
    pages = [cover_page(fax, profile, resolution)] if fax.cover_enabled else []
    for document in fax.documents:
        try:
            pages += documents.render(storage.read(document.key), document.kind, resolution)
        except documents.DocumentRefused as exc:
            fax.preview_status = PreviewStatus.FAILED
            fax.preview_error = f"{document.filename}: {exc.message}"[:300]
            session.flush()
            return fax.preview_status
    if len(pages) > documents.MAX_PAGES:
        fax.preview_status, fax.preview_error = PreviewStatus.FAILED, str(documents.REFUSALS["too_many_pages"])
        session.flush()
        return fax.preview_status
    storage.stage(session, body_key(fax), documents.tiff(pages, resolution))
    for number, page in enumerate(_header_lines(fax, pages, utcnow()), start=1):
        storage.stage(session, preview_key(fax, number), documents.preview_png(page, resolution, PREVIEW_WIDTH))
    fax.pages = len(pages)
    fax.preview_status = PreviewStatus.READY
    session.flush()
    return fax.preview_status


# --- sending --------------------------------------------------------------------------------


def send(session: Session, user: User, profile: UmsProfile, fax: SentFax) -> SentFax:
    """„Senden“: the previewed fax is queued; the transmission job takes it (now or at ``send_after``)."""
    if fax.status != FaxStatus.DRAFT:
        raise ValidationFailed(_l("This fax has been sent already."))
    if not fax.destination_e164:
        raise ValidationFailed(_l("Please enter the fax number of the recipient."), field="destination")
    if not fax.documents and not fax.cover_enabled:
        raise ValidationFailed(_l("Please add a document or a cover page."), field="file")
    if fax.preview_status != PreviewStatus.READY:
        raise ValidationFailed(_l("Please wait for the preview: you send what it shows."), field="file")
    fax.status = FaxStatus.QUEUED
    fax.attempts = 0
    fax.max_attempts = max_attempts()
    fax.queued_at = utcnow()
    fax.next_attempt_at = fax.send_after or fax.queued_at
    fax.status_changed_at = fax.queued_at
    session.flush()
    audit.record(session, user, "fax.sent", customer_id=profile.customer_id, profile_id=profile.id,
                 subject=profile.email, destination=fax.destination_e164, pages=fax.pages)
    _schedule_transmit(session, fax, (fax.next_attempt_at - utcnow()).total_seconds())
    return fax


def _schedule_transmit(session: Session, fax: SentFax, delay: float) -> None:
    fax_id = fax.id

    def _enqueue() -> None:
        from ..fax_jobs import transmit_fax

        if delay > 0:
            transmit_fax.schedule((fax_id,), delay=delay)
        else:
            transmit_fax(fax_id)

    after_commit(session, _enqueue)


def claim(session: Session, fax_id: int) -> bool:
    """Take a due queued fax for one attempt (once, even when two workers try)."""
    result = session.execute(
        update(SentFax).where(SentFax.id == fax_id, SentFax.status == FaxStatus.QUEUED,
                              SentFax.next_attempt_at <= utcnow() + timedelta(seconds=1))
        .values(status=FaxStatus.CONVERTING, attempts=SentFax.attempts + 1, status_changed_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    session.flush()
    return bool(result.rowcount)


def hand_over(session: Session, fax_id: int) -> SentFax | None:
    """Second step of an attempt: TIFF Class F with the Kopfzeile at the time of sending, handed to
    the platform (``fax.send`` event); the fax is then „sending“."""
    fax = session.get(SentFax, fax_id)
    if fax is None or fax.status != FaxStatus.CONVERTING:
        return None
    try:
        body = documents.frames(storage.read(body_key(fax)))
    except (storage.StorageError, OSError):
        return finish(session, fax, FaxStatus.FAILED, str(_l("The document files are missing.")))
    pages = _header_lines(fax, body, utcnow())
    old = fax.tiff_key
    fax.tiff_key = storage.stage(session, f"{fax.media_prefix}/fax-{fax.attempts}.tif",
                                documents.tiff(pages, fax.resolution.value, compression=compression()))
    if old and old != fax.tiff_key:
        after_commit(session, lambda: storage.delete(old))
    fax.platform_fax_id = f"fax-{fax.id}-{fax.attempts}"
    fax.status = FaxStatus.SENDING
    fax.status_changed_at = utcnow()
    session.flush()
    platform.emit(
        session, "fax.send", fax_id=fax.id, platform_fax_id=fax.platform_fax_id, profile_id=fax.profile_id,
        destination=fax.destination_e164, caller=number_of(session, session.get(UmsProfile, fax.profile_id)),
        station_id=fax.station_id, pages=fax.pages, resolution=fax.resolution.value, attempt=fax.attempts,
        document_path=f"/api/v1/fax/sent/{fax.platform_fax_id}/document",
    )
    return fax


def compression() -> str:
    return "group3" if current_app.config.get("FAX_COMPRESSION") == "group3" else "group4"


# --- status from the platform ---------------------------------------------------------------

CALLBACK_STATUSES = {"sending": FaxStatus.SENDING, "sent": FaxStatus.SENT, "busy": FaxStatus.BUSY,
                     "no_answer": FaxStatus.NO_ANSWER, "failed": FaxStatus.FAILED}


def apply_status(session: Session, platform_fax_id: str, status: str, *, reason: str | None = None) -> tuple[SentFax, bool]:
    """A status report of the platform for one attempt; idempotent and safe out of order: reports
    of an earlier attempt, repeated ones and any after the final state change nothing.
    Returns (fax, changed)."""
    new = CALLBACK_STATUSES.get((status or "").strip().lower())
    if new is None:
        raise ValidationFailed(_l("status must be one of sending, sent, busy, no_answer, failed."), field="status")
    attempt_of = platform_fax_id.rsplit("-", 1)
    fax = session.scalar(select(SentFax).where(SentFax.platform_fax_id == platform_fax_id).with_for_update())
    if fax is None:
        # An earlier attempt of a fax now on a later one: nothing to do, but it exists.
        if len(attempt_of) == 2 and attempt_of[0].startswith("fax-") and attempt_of[0][4:].isdigit():
            older = session.get(SentFax, int(attempt_of[0][4:])) if inbox.valid_id(int(attempt_of[0][4:])) else None
            if older is not None and older.platform_fax_id and older.platform_fax_id != platform_fax_id:
                return older, False
        raise NotFound(_l("No fax is known under this platform_fax_id."))
    if fax.status != FaxStatus.SENDING or new == FaxStatus.SENDING:
        return fax, False
    reason = (reason or "").strip()[:200] or None
    if new in RETRYABLE and fax.attempts < fax.max_attempts:
        fax.status = FaxStatus.QUEUED
        fax.reason = reason or str(STATUS_LABELS[new])
        fax.next_attempt_at = utcnow() + timedelta(seconds=retry_seconds())
        fax.status_changed_at = utcnow()
        session.flush()
        _schedule_transmit(session, fax, retry_seconds())
        return fax, True
    return finish(session, fax, new, reason), True


def finish(session: Session, fax: SentFax, status: FaxStatus, reason: str | None) -> SentFax:
    """The final state: the transmission report and the e-mail to the sender."""
    fax.status = status
    fax.reason = reason if status != FaxStatus.SENT else None
    fax.status_changed_at = utcnow()
    fax.next_attempt_at = None
    if status == FaxStatus.SENT:
        fax.sent_at = utcnow()
    profile = session.get(UmsProfile, fax.profile_id)
    report = report_pdf(fax, profile)
    fax.report_key = storage.stage(session, f"{fax.media_prefix}/report.pdf", report)
    session.flush()
    mail.queue(
        session, profile.email, "fax_sent" if status == FaxStatus.SENT else "fax_failed",
        subject=(_l("Fax to %(number)s sent", number=phone.display(fax.destination_e164))
                 if status == FaxStatus.SENT else
                 _l("Fax to %(number)s not sent", number=phone.display(fax.destination_e164))),
        locale=profile.language or "de",
        attachment=(f"sendebericht-{fax.id}.pdf", "application/pdf", report),
        profile=profile, fax=fax, number=phone.display(fax.destination_e164), status=STATUS_LABELS[status],
        link=external_url("fax.sent", profile_id=profile.id) + f"#fax-out-{fax.id}",
    )
    return fax


def report_pdf(fax: SentFax, profile: UmsProfile) -> bytes:
    """The transmission report (Sendebericht) with page 1 in small."""
    from PIL import Image

    when = local_time(fax.sent_at or fax.status_changed_at or utcnow()).strftime("%d.%m.%Y %H:%M")
    lines = [(str(_l("Transmission report")), 70), ("", 30)]
    for label, value in ((_l("Sender"), profile.full_name), (_l("Fax number"), phone.display(fax.destination_e164)),
                         (_l("Status"), STATUS_LABELS[fax.status]), (_l("Time"), when),
                         (_l("Pages"), str(fax.pages)), (_l("Attempts"), f"{fax.attempts} / {fax.max_attempts}"),
                         (_l("Reason"), fax.reason), (_l("Station ID"), fax.station_id)):
        if value:
            lines.append((f"{label}: {value}", 40))
    page = documents.text_page(lines, "fine")
    try:
        first = documents.frames(storage.read(body_key(fax)))[0]
        small = first.convert("L").resize((first.width // 3, 2292 // 3), Image.Resampling.BOX)
        page = page.convert("L")
        page.paste(small, (160, 1300))
        page = page.convert("1")
    except (storage.StorageError, OSError, IndexError):
        pass
    return documents.pdf([page], "fine")


# --- lists ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SentQuery:
    destination: str = ""
    day_from: date | None = None
    day_until: date | None = None
    page: int = 1


@dataclass
class SentPage:
    items: list[SentFax]
    total: int
    page: int
    pages: int
    in_flight: bool
    query: SentQuery


def list_sent(session: Session, profile: UmsProfile, query: SentQuery, *, tz=None) -> SentPage:
    """One page of sent faxes (drafts not included), newest first: three queries whatever the size."""
    conditions = [SentFax.profile_id == profile.id, SentFax.deleted_at.is_(None), SentFax.status != FaxStatus.DRAFT]
    digits = inbox.caller_digits(query.destination)
    if digits:
        conditions.append(SentFax.destination_e164.contains(digits, autoescape=True))
    conditions += inbox.day_conditions(SentFax.created_at, query.day_from, tz, until=query.day_until)
    found = inbox.paginate(session, SentFax, conditions, (SentFax.created_at.desc(), SentFax.id.desc()),
                           query.page, PAGE_SIZE)
    flying = bool(session.scalar(select(func.count()).select_from(SentFax).where(
        SentFax.profile_id == profile.id, SentFax.deleted_at.is_(None), SentFax.status.in_(IN_FLIGHT))))
    return SentPage(found.items, found.total, found.page, found.pages, flying,
                    SentQuery(query.destination, query.day_from, query.day_until, found.page))


def open_draft(session: Session, profile: UmsProfile) -> SentFax | None:
    """The profile's newest draft (the „Fax senden“ page continues it)."""
    return session.scalar(select(SentFax).where(
        SentFax.profile_id == profile.id, SentFax.status == FaxStatus.DRAFT, SentFax.deleted_at.is_(None))
        .order_by(SentFax.id.desc()).limit(1))


def discard_draft(session: Session, user: User, profile: UmsProfile, fax: SentFax) -> None:
    prefix = fax.media_prefix
    session.delete(fax)
    session.flush()
    after_commit(session, lambda: storage.delete_prefix(prefix))


STUCK_CONVERTING = timedelta(minutes=15)
NO_REPORT = timedelta(hours=1)


def recover_stuck(session: Session) -> int:
    """Faxes a crashed job left „converting“ go back to the queue (or fail after the last try);
    „sending“ without any report from the platform for an hour fails with that reason."""
    now = utcnow()
    stuck = list(session.scalars(select(SentFax).where(
        ((SentFax.status == FaxStatus.CONVERTING) & (SentFax.status_changed_at < now - STUCK_CONVERTING))
        | ((SentFax.status == FaxStatus.SENDING) & (SentFax.status_changed_at < now - NO_REPORT))
    ).limit(100).with_for_update()))
    for fax in stuck:
        if fax.status == FaxStatus.CONVERTING and fax.attempts < fax.max_attempts:
            fax.status, fax.next_attempt_at, fax.status_changed_at = FaxStatus.QUEUED, now, now
        else:
            finish(session, fax, FaxStatus.FAILED, str(_l("No report from the telephony platform.")))
    session.flush()
    return len(stuck)


def due_for_retry(session: Session, limit: int = 100) -> list[int]:
    """Queued faxes whose attempt is due (the periodic sweep re-enqueues them after a lost schedule)."""
    return list(session.scalars(select(SentFax.id).where(
        SentFax.status == FaxStatus.QUEUED, SentFax.next_attempt_at <= utcnow()).order_by(SentFax.id).limit(limit)))


def tiff_for_platform(session: Session, platform_fax_id: str) -> bytes:
    fax = session.scalar(select(SentFax).where(SentFax.platform_fax_id == platform_fax_id))
    if fax is None or not fax.tiff_key or not storage.exists(fax.tiff_key):
        raise NotFound(_l("No fax is known under this platform_fax_id."))
    return storage.read(fax.tiff_key)

