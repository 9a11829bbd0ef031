"""Queue jobs of the Konferenz: recordings whose undo time has passed are purged every few
minutes, also in rooms nobody opens (the recordings page purges its own room on every view)."""

from __future__ import annotations

from huey import crontab

from ...jobs import app_context, huey


@huey.periodic_task(crontab(minute="*/5"))
def purge_deleted_recordings() -> int:
    from ...extensions import db
    from . import recordings

    with app_context():
        session = db.new_session()
        try:
            purged = recordings.BOX.purge_deleted(session)
            session.commit()
            return purged
        finally:
            session.close()
