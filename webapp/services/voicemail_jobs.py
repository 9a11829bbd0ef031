"""Queue jobs of the Anrufbeantworter: messages whose undo time has passed are purged every few
minutes, also in boxes nobody opens (the list purges its own box on every view as well)."""

from __future__ import annotations

from huey import crontab

from ..jobs import app_context, huey


@huey.periodic_task(crontab(minute="*/5"))
def purge_deleted_voicemail() -> int:
    from ..extensions import db
    from . import voicemail

    with app_context():
        session = db.new_session()
        try:
            purged = voicemail.purge_deleted(session)
            session.commit()
            return purged
        finally:
            session.close()
