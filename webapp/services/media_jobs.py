"""Queue job of the media store: the hourly sweep of files no row refers to and of temporaries
left by interrupted writes (``flask media sweep`` does the same on demand)."""

from __future__ import annotations

from huey import crontab

from ..jobs import app_context, huey


@huey.periodic_task(crontab(minute="17"))
def sweep_media() -> dict:
    from ..extensions import db
    from . import storage

    with app_context():
        session = db.new_session()
        try:
            result = storage.sweep(session)
            return {"orphans": result.orphans, "temporaries": result.temporaries, "completed": result.completed}
        finally:
            session.close()
