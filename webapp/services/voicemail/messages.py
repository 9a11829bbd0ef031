"""Messages the platform deposited: the list with filters, marking, delete with undo, playback."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ...db import after_commit
from ...models import AuditEntry, UmsProfile, User, VoicemailGreeting, VoicemailMessage, utcnow
from .. import audio, audit, inbox, storage
from ..errors import NotFound
from ..inbox import caller_digits  # noqa: F401  (re-exported by the package)

PAGE_SIZE = 20
UNDO_SECONDS = 300

BOX = inbox.Box(
    model=VoicemailMessage, read_column="heard_at", file_columns=("audio_key", "playback_key"),
    not_found=_l("This message does not exist or has been deleted."),
    select_one=_l("Select at least one message."),
    not_restorable=_l("These messages can no longer be restored."),
    audit_deleted="voicemail.messages_deleted", undo_seconds=UNDO_SECONDS, kept_by="voicemail_box",
)

# What the message page shows of the profile (its number, the settings' state), loaded with it.
LIST_LOAD = (joinedload(UmsProfile.assignments), joinedload(UmsProfile.voicemail_settings),
             joinedload(UmsProfile.voicemail_box))


@dataclass(frozen=True)
class MessageQuery:
    only_new: bool = False
    caller: str = ""
    day: date | None = None  # one day (older links); the page offers a range:
    since: date | None = None
    until: date | None = None
    page: int = 1


@dataclass
class MessagePage:
    items: list[VoicemailMessage]
    total: int
    page: int
    pages: int
    new_count: int
    query: MessageQuery


def new_count(session: Session, profile_id: int) -> int:
    return BOX.unread_count(session, profile_id)


def list_messages(session: Session, profile: UmsProfile, query: MessageQuery, *, tz=None) -> MessagePage:
    """One page of the profile's messages, newest first, with the box's new count: one query
    whatever the box size (``inbox.Box.page``).
    (Deleted messages are purged by ``voicemail_jobs`` once their undo time is over.)"""
    found = BOX.page(session, profile.id, _filters(query, tz), query.page, PAGE_SIZE, counts=BOX.kept_counts(profile))
    return MessagePage(found.items, found.total, found.page, found.pages, found.unread,
                       replace(query, page=found.page))


def _filters(query: MessageQuery, tz) -> list:
    conditions = []
    if query.only_new:
        conditions.append(VoicemailMessage.heard_at.is_(None))
    digits = caller_digits(query.caller)
    if digits:
        conditions.append(VoicemailMessage.caller_e164.contains(digits, autoescape=True))
    conditions += inbox.day_conditions(VoicemailMessage.received_at, query.day, tz)
    conditions += _range_conditions(VoicemailMessage.received_at, query.since, query.until, tz)
    return conditions


def iter_messages(session: Session, profile: UmsProfile, query: MessageQuery, *, tz=None, batch: int = 500):
    """Every message the list with ``query`` finds (all pages, newest first), read in batches:
    for the CSV export, which never holds them all."""
    from sqlalchemy import select

    statement = (select(VoicemailMessage).where(*BOX.conditions(profile.id), *_filters(query, tz))
                 .order_by(VoicemailMessage.received_at.desc(), VoicemailMessage.id.desc()))
    offset = 0
    while True:
        rows = list(session.scalars(statement.limit(batch).offset(offset)))
        yield from rows
        if len(rows) < batch:
            return
        offset += batch


def csv_header() -> list[str]:
    return [str(_l("Received")), str(_l("Caller")), str(_l("Duration")), str(_l("Status"))]


def csv_rows(session: Session, profile: UmsProfile, query: MessageQuery, *, tz=None):
    """The CSV export of the message list with ``query``: received (local time), caller as shown
    in the list, duration, new or heard."""
    from flask_babel import to_user_timezone

    from .. import phone
    from .notify import duration_text

    unknown, new, heard = str(_l("Unbekannt")), str(_l("new")), str(_l("heard"))
    for message in iter_messages(session, profile, query, tz=tz):
        yield [to_user_timezone(message.received_at),
               phone.display(message.caller_e164) if message.caller_e164 else unknown,
               duration_text(message.duration_ms), heard if message.heard_at else new]


def _range_conditions(column, since: date | None, until: date | None, tz) -> list:
    """Received from ``since`` through ``until`` (whole days in ``tz``), either end open."""
    if since is None:
        return inbox.day_conditions(column, None, tz, until=until) if until else []
    if until is None:
        # the first condition is "from the start of ``since``" (or false at the calendar's edge)
        return inbox.day_conditions(column, since, tz)[:1]
    return inbox.day_conditions(column, since, tz, until=until)


def message_of(session: Session, profile: UmsProfile, message_id: int, *,
               include_deleted: bool = False) -> VoicemailMessage:
    return BOX.get(session, profile, message_id, include_deleted=include_deleted)


def mark(session: Session, user: User, profile: UmsProfile, ids: list[int], *, heard: bool) -> int:
    """Mark messages heard (or new again); playing them never does this by itself."""
    return BOX.mark(session, profile, ids, read=heard)


def delete_messages(session: Session, user: User, profile: UmsProfile, ids: list[int]) -> list[int]:
    """Mark deleted; ``restore_messages`` undoes it for ``UNDO_SECONDS``, then it is purged."""
    return BOX.delete(session, user, profile, ids)


def restore_messages(session: Session, user: User, profile: UmsProfile, ids: list[int]) -> int:
    return BOX.restore(session, user, profile, ids)


def purge_deleted(session: Session, profile_id: int | None = None) -> int:
    """Remove messages whose undo time has passed, with their files (after the commit)."""
    return BOX.purge_deleted(session, profile_id)


def playback(session: Session, item: VoicemailMessage | VoicemailGreeting) -> tuple[str, str]:
    """(storage key, mime type) of the browser copy, made from the WAV on first use and kept."""
    if item.playback_key and storage.exists(item.playback_key):
        return item.playback_key, _mime(item.playback_key)
    wav = read_audio(item.audio_key)
    data, _mime_type, suffix = audio.playback_copy(wav)
    if suffix == ".wav":
        item.playback_key = item.audio_key
    else:
        item.playback_key = storage.save(item.audio_key.rsplit(".", 1)[0] + suffix, data)
    session.flush()
    return item.playback_key, _mime(item.playback_key)


def ensure_audio(key: str) -> None:
    """NotFound unless the file of ``key`` exists; demo files are spoken again if the media root
    lost them (a fresh media directory next to an old database)."""
    from .. import demo_voicemail

    if storage.exists(key):
        return
    if key.rsplit("/", 1)[-1].startswith("demo-") and demo_voicemail.restore(key):
        return
    raise NotFound(_l("The audio of this item is missing."))


def read_audio(key: str) -> bytes:
    ensure_audio(key)
    return storage.read(key)


def _mime(key: str) -> str:
    return {"mp3": "audio/mpeg", "wav": "audio/wav", "ogg": "audio/ogg"}.get(key.rsplit(".", 1)[-1],
                                                                          "application/octet-stream")


# --- profile deletion -----------------------------------------------------------------------


def delete_profile_media(session: Session, profile: UmsProfile) -> None:
    """Remove the profile's voicemail files once its deletion is committed (rows cascade)."""
    prefix = f"voicemail/{profile.id}"
    after_commit(session, lambda: storage.delete_prefix(prefix))


def record_access(session: Session, user: User, profile: UmsProfile, message: VoicemailMessage, *,
                  download: bool) -> None:
    """Someone other than the profile's owner (an administrator) played or downloaded a voice
    message: the audit trail says who, when and which. A player's repeated range requests within
    ten minutes count once."""
    if profile.user_id == user.id:
        return
    action = "voicemail.message_downloaded" if download else "voicemail.message_played"
    recent = session.scalar(select(AuditEntry.id).where(
        AuditEntry.actor_id == user.id, AuditEntry.action == action, AuditEntry.profile_id == profile.id,
        AuditEntry.at >= utcnow() - timedelta(minutes=10),
    ).order_by(AuditEntry.id.desc()).limit(1))
    if recent is not None and session.get(AuditEntry, recent).detail.get("message_id") == message.id:
        return
    audit.record(session, user, action, customer_id=profile.customer_id, profile_id=profile.id,
                 subject=profile.email, message_id=message.id,
                 received_at=message.received_at.isoformat() if message.received_at else None)
