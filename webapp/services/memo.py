"""Answers computed once per session state: who the signed-in user is allowed to reach, their own
profile, the navigation's counters. A request asks these several times (the route, the service,
the navigation around the page); they cost a query each time otherwise.

A remembered answer lives in ``session.info`` and is dropped as soon as the session changes
anything: at every flush, commit, rollback and bulk statement, and whenever objects are pending
(new, changed or deleted), so a write in the same request is never answered from before it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

T = TypeVar("T")
_KEY = "memo"


def remember(session: Session, key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()`` once for ``key`` until the session writes; then again."""
    if session.new or session.deleted or session.dirty:
        forget(session)
        return compute()
    memo = session.info.setdefault(_KEY, {})
    try:
        return memo[key]
    except KeyError:
        value = memo[key] = compute()
        return value


def forget(session: Session, *_args) -> None:
    session.info.pop(_KEY, None)


event.listen(Session, "after_flush", forget)
event.listen(Session, "after_commit", forget)
event.listen(Session, "after_soft_rollback", forget)


@event.listens_for(Session, "do_orm_execute")
def _forget_on_write(state: ORMExecuteState) -> None:
    if not state.is_select:
        forget(state.session)
