"""What every box of received items has in common (voicemail messages, faxes, recordings): row-id
guards, pages with filters and caller search, read/unread, delete with undo and the purge after
it, bulk actions that only ever touch the owner's own ids.

A ``Box`` describes one such table; its methods take the session (and acting user) explicitly and
only flush. Deleted rows stay for ``undo_seconds``, then ``purge_deleted`` removes them together
with their files (after the commit).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import bindparam, delete, false, func, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from ..db import after_commit
from ..models import utcnow
from . import audit, storage
from .errors import NotFound, ValidationFailed

MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database; larger ones name nothing
MAX_BULK = 500


def valid_id(value) -> bool:
    """Whether ``value`` can be a row id (a garbage id from a URL or form must not reach SQL)."""
    return isinstance(value, int) and 0 < value <= MAX_ID


def caller_digits(text: str) -> str:
    """Digits to search callers by: „030 123“ → 4930123, „+49 30“ → 4930, „0049…“ → 49…"""
    digits = re.sub(r"\D", "", text or "")
    if not digits:
        return ""
    if digits.startswith("00"):
        return digits[2:]
    if digits.startswith("0"):
        return "49" + digits[1:]
    return digits


def day_conditions(column, day: date | None, tz=None, until: date | None = None) -> list:
    """Conditions for ``column`` (UTC) lying on ``day`` (or from ``day`` through ``until``) in ``tz``."""
    if day is None and until is None:
        return []
    zone = tz or UTC
    conditions = []
    try:
        if day is not None:
            conditions.append(column >= datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC))
        last = until if until is not None else day
        conditions.append(column < datetime.combine(last, time.min, tzinfo=zone).astimezone(UTC) + timedelta(days=1))
    except OverflowError:  # a day at the edge of the calendar (0001-01-01): nothing is from then
        return [false()]
    return conditions


@dataclass
class Page:
    items: list
    total: int
    page: int
    pages: int
    unread: int = 0  # ``Box.page``: the box's unread items, whatever the filters


def paginate(session: Session, model, conditions: list, order_by: tuple, page: int, page_size: int,
             options: tuple = (), *, total: int | None = None, unread: int = 0) -> Page:
    """One page of ``model`` rows: two queries whatever the number of rows (one if ``total`` is
    known)."""
    if total is None:
        total = session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    items = list(session.scalars(
        select(model).where(*conditions).options(*options).order_by(*order_by)
        .limit(page_size).offset((page - 1) * page_size)
    ))
    return Page(items, total, page, pages, unread)


@dataclass(frozen=True)
class Box:
    """One table of received items of a profile.

    ``model`` has ``id``, ``profile_id``, ``deleted_at`` and the timestamp ``read_column`` (None:
    new; no column: nothing to mark); ``file_columns`` name the storage keys removed with a row,
    ``prefix_columns`` storage folders removed with it.
    """

    model: Any
    read_column: str | None
    file_columns: tuple[str, ...]
    not_found: Any  # message when an item is not there (lazy string)
    select_one: Any  # message when a bulk action names no item
    not_restorable: Any  # message when the undo time is over
    audit_deleted: str  # audit action of a deletion
    undo_seconds: int = 300
    prefix_columns: tuple[str, ...] = ()
    newest_first: str = "received_at"  # the timestamp the list is ordered by (then by id)
    kept_by: str | None = None  # the profile's ``BoxVersion`` relationship whose counts the triggers keep

    def kept_counts(self, profile) -> tuple[int, int] | None:
        """(total, unread) as the database's triggers keep them, when the profile was loaded with
        its ``BoxVersion`` (the list pages' ``LIST_LOAD``; no row: an empty box), else None. Not
        loaded (a request that changed the box first) is not read: it could predate the change."""
        if self.kept_by is None or self.kept_by in sa_inspect(profile).unloaded:
            return None
        kept = getattr(profile, self.kept_by)
        return (kept.total, kept.unread) if kept is not None else (0, 0)

    def get(self, session: Session, profile, item_id, *, include_deleted: bool = False):
        item = session.get(self.model, item_id) if valid_id(item_id) else None
        if item is None or item.profile_id != profile.id or (item.deleted_at is not None and not include_deleted):
            raise NotFound(self.not_found)
        return item

    def own_ids(self, session: Session, profile, ids: list[int]) -> list[int]:
        ids = [i for i in ids if valid_id(i)][:MAX_BULK]
        if not ids:
            raise ValidationFailed(self.select_one, field="ids")
        model = self.model
        return list(session.scalars(select(model.id).where(model.profile_id == profile.id, model.id.in_(ids))))

    def conditions(self, profile_id: int) -> list:
        """The profile's items that are not deleted."""
        return [self.model.profile_id == profile_id, self.model.deleted_at.is_(None)]

    def page(self, session: Session, profile_id: int, filters: list, page: int, page_size: int,
             *, counts: tuple[int, int] | None = None) -> Page:
        """One page of the profile's items with ``filters`` (newest first), their total and the
        box's unread count, in one statement whatever the box size. Unfiltered with the box's
        ``counts`` kept by the triggers (``kept_counts``), the statement reads the page alone;
        otherwise both counts ride along as subqueries the database runs once (over the index of
        profile, deleted, read). An empty page (an empty box, a page past the end) then needs the
        counts on their own, and past the end the last page. Unfiltered, the statement is built
        once per box."""
        number = min(max(1, page), MAX_ID // page_size)
        if counts is not None and not filters:
            total, unread = counts
            pages = max(1, -(-total // page_size))
            number = min(number, pages)
            items = list(session.scalars(self._kept_page, {"profile_id": profile_id, "limit": page_size,
                                                           "offset": (number - 1) * page_size}))
            return Page(items, total, number, pages, unread)
        window = {"limit": page_size, "offset": (number - 1) * page_size}
        if filters:
            statement, params = self._page_statement(self.conditions(profile_id), filters), window
        else:
            statement, params = self._unfiltered_page, {"profile_id": profile_id, **window}
        rows = session.execute(statement, params).all()
        if rows:
            return Page([r[0] for r in rows], rows[0][1], number, max(1, -(-rows[0][1] // page_size)), rows[0][2])
        box = self.conditions(profile_id)
        total, unread = session.execute(select(*self._counts(box, filters))).one()
        pages = max(1, -(-total // page_size))
        if total and number > pages:
            rows = session.execute(self._page_statement(box, filters),
                                   {"limit": page_size, "offset": (pages - 1) * page_size}).all()
            return Page([r[0] for r in rows], total, pages, pages, unread)
        return Page([], total, min(number, pages), pages, unread)

    @cached_property
    def _unfiltered_page(self):
        model = self.model
        return self._page_statement([model.profile_id == bindparam("profile_id"), model.deleted_at.is_(None)], [])

    @cached_property
    def _kept_page(self):
        """The unfiltered page without its counts (the triggers keep them)."""
        model = self.model
        return (select(model).where(model.profile_id == bindparam("profile_id"), model.deleted_at.is_(None))
                .order_by(getattr(model, self.newest_first).desc(), model.id.desc())
                .limit(bindparam("limit")).offset(bindparam("offset")))

    def _page_statement(self, box: list, filters: list):
        """Items of ``box`` with ``filters``, newest first, with both counts; the page is chosen by
        the parameters ``limit`` and ``offset``."""
        model = self.model
        return (select(model, *self._counts(box, filters)).where(*box, *filters)
                .order_by(getattr(model, self.newest_first).desc(), model.id.desc())
                .limit(bindparam("limit")).offset(bindparam("offset")))

    def _counts(self, box: list, filters: list) -> tuple:
        model = self.model
        unread_only = getattr(model, self.read_column).is_(None) if self.read_column else false()
        return (select(func.count()).select_from(model).where(*box, *filters).scalar_subquery(),
                select(func.count()).select_from(model).where(*box, unread_only).scalar_subquery())

    def unread_count(self, session: Session, profile_id: int) -> int:
        model = self.model
        if self.read_column is None:
            return 0
        return session.scalar(
            select(func.count()).select_from(model).where(
                model.profile_id == profile_id, model.deleted_at.is_(None),
                getattr(model, self.read_column).is_(None),
            )
        ) or 0

    def mark(self, session: Session, profile, ids: list[int], *, read: bool) -> int:
        """Mark items read (or new again); opening them never does this by itself."""
        own = self.own_ids(session, profile, ids)
        model = self.model
        result = session.execute(
            update(model).where(model.id.in_(own), model.deleted_at.is_(None))
            .values({self.read_column: utcnow() if read else None})
            .execution_options(synchronize_session="fetch")
        )
        session.flush()
        return result.rowcount or 0

    def delete(self, session: Session, user, profile, ids: list[int]) -> list[int]:
        """Mark deleted; ``restore`` undoes it for ``undo_seconds``, then it is purged."""
        own = self.own_ids(session, profile, ids)
        model = self.model
        deleted = list(session.scalars(
            update(model).where(model.id.in_(own), model.deleted_at.is_(None))
            .values(deleted_at=utcnow()).returning(model.id)
            .execution_options(synchronize_session="fetch")
        ))
        if not deleted:
            raise NotFound(self.not_found)
        session.flush()
        audit.record(session, user, self.audit_deleted, customer_id=profile.customer_id,
                     profile_id=profile.id, subject=profile.email, count=len(deleted))
        return sorted(deleted)

    def restore(self, session: Session, user, profile, ids: list[int]) -> int:
        own = self.own_ids(session, profile, ids)
        model = self.model
        result = session.execute(
            update(model)
            .where(model.id.in_(own), model.deleted_at.is_not(None),
                   model.deleted_at >= utcnow() - timedelta(seconds=self.undo_seconds))
            .values(deleted_at=None)
            .execution_options(synchronize_session="fetch")
        )
        session.flush()
        if not result.rowcount:
            raise ValidationFailed(self.not_restorable, field="ids")
        return result.rowcount

    def _file_rows(self, session: Session, *conditions):
        model = self.model
        return session.execute(
            select(model.id, *[getattr(model, c) for c in self.file_columns + self.prefix_columns])
            .where(*conditions)
        ).all()

    def purge_deleted(self, session: Session, profile_id: int | None = None) -> int:
        """Remove items whose undo time has passed, with their files (after the commit)."""
        model = self.model
        cutoff = utcnow() - timedelta(seconds=self.undo_seconds)
        conditions = [model.deleted_at.is_not(None), model.deleted_at < cutoff]
        if profile_id is not None:
            conditions.append(model.profile_id == profile_id)
        rows = self._file_rows(session, *conditions)
        if rows:
            self.remove(session, rows)
        return len(rows)

    def remove(self, session: Session, rows) -> None:
        """Delete rows given as (id, *file keys) now and their files once that is committed."""
        model = self.model
        session.execute(delete(model).where(model.id.in_([r[0] for r in rows]))
                        .execution_options(synchronize_session="fetch"))
        files = len(self.file_columns)
        keys = [k for r in rows for k in r[1:1 + files] if k]
        prefixes = [p for r in rows for p in r[1 + files:] if p]
        after_commit(session, lambda: [storage.delete(k) for k in keys] + [storage.delete_prefix(p) for p in prefixes])

    def remove_one(self, session: Session, item_id: int) -> None:
        """A mail hook (``mail.AFTER_SEND_HOOKS``): the mail carrying the item was accepted, so it goes."""
        rows = self._file_rows(session, self.model.id == item_id)
        if rows:
            self.remove(session, rows)
