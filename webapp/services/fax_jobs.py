"""Queue jobs of the fax: page images of received faxes, the exact preview of a fax to send,
each transmission attempt, the embedded simulator's answers, and the periodic purge and retry
sweep. Untrusted documents are only ever rendered here (in a limited child process)."""

from __future__ import annotations

import logging

from huey import crontab

from ..jobs import app_context, huey

log = logging.getLogger(__name__)


def _fresh_context():
    """An app context of the job's own: run at once (tests, demo) the job may sit inside a request
    whose session is just committing, and the mail templates it renders must not touch that one."""
    from flask import current_app, has_app_context

    return current_app._get_current_object().app_context() if has_app_context() else app_context()


def _in_session(fn):
    """Run ``fn(session)`` in the session of a fresh app context and commit (roll back on error)."""
    from ..extensions import db

    with _fresh_context():
        session = db.session  # the context's own: templates rendered by the job use the same one
        try:
            result = fn(session)
            session.commit()
            return result
        except Exception:
            session.rollback()
            raise


@huey.task(retries=2, retry_delay=10)
def render_received(fax_id: int):
    from .fax import received

    status = _in_session(lambda s: received.render_pages(s, fax_id))
    return status.value if status else None


@huey.task(retries=2, retry_delay=10)
def render_preview(fax_id: int, version: int):
    from .fax import sending

    status = _in_session(lambda s: sending.render_preview(s, fax_id, version))
    return status.value if status else None


@huey.task(retries=3, retry_delay=30)
def transmit_fax(fax_id: int) -> bool:
    """One attempt: claim (→ converting, committed so the list shows it), convert and hand over."""
    from .fax import sending

    if not _in_session(lambda s: sending.claim(s, fax_id)):
        return False
    _in_session(lambda s: sending.hand_over(s, fax_id))
    return True


@huey.task(retries=2, retry_delay=5)
def simulate_fax_result(platform_fax_id: str, destination: str) -> str:
    """The embedded platform simulator: busy for numbers ending in 666, no answer for 777, else sent."""
    from .fax import sending

    if destination.endswith("666"):
        status, reason = "busy", "Besetzt (simuliert)"
    elif destination.endswith("777"):
        status, reason = "no_answer", "Keine Antwort (simuliert)"
    else:
        status, reason = "sent", None
    _in_session(lambda s: sending.apply_status(s, platform_fax_id, status, reason=reason))
    return status


def answer_in_simulator(event) -> None:
    """``platform.SIMULATED_ANSWERS['fax.send']``: answer after the dispatch commits."""
    from flask import current_app
    from sqlalchemy.orm import object_session

    from ..db import after_commit

    platform_fax_id, destination = event.payload["platform_fax_id"], event.payload["destination"]
    delay = float(current_app.config.get("FAX_SIMULATOR_SECONDS", 3))

    def _answer() -> None:
        if delay > 0:
            simulate_fax_result.schedule((platform_fax_id, destination), delay=delay)
        else:
            simulate_fax_result(platform_fax_id, destination)

    session = object_session(event)
    if session is None:  # pragma: no cover - events are always delivered from a session
        _answer()
    else:
        after_commit(session, _answer)


@huey.periodic_task(crontab(minute="*"))
def fax_housekeeping() -> dict:
    """Purge deletions whose undo time is over; recover faxes a crashed job left behind; re-enqueue
    due attempts whose schedule was lost."""
    from .fax import received, sending

    def run(session):
        purged = received.BOX.purge_deleted(session) + sending.BOX.purge_deleted(session)
        sending.recover_stuck(session)
        return purged, sending.due_for_retry(session)

    purged, due = _in_session(run)
    for fax_id in due:
        transmit_fax(fax_id)
    return {"purged": purged, "retried": len(due)}
