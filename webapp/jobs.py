"""Background jobs on Huey.

The queue object exists at import time (task decorators need it) but starts in memory-only
immediate mode; ``init_app`` points it at SQLite or Redis from the app's config, so importing
this module opens no file and no connection.
"""

from __future__ import annotations

import contextlib
import logging

from flask import Flask, current_app, has_app_context
from huey import Huey, crontab
from huey.storage import RedisStorage, SqliteStorage

log = logging.getLogger(__name__)

huey = Huey("ums", immediate=True)

_worker_app: Flask | None = None


def init_app(app: Flask) -> None:
    global _worker_app
    _worker_app = app
    if app.config.get("HUEY_IMMEDIATE"):
        huey.immediate = True
        return
    huey.name = app.config.get("HUEY_NAME") or "ums"  # one queue per deployment on a shared Redis
    if app.config.get("REDIS_URL"):
        huey.storage_class = RedisStorage
        huey.storage_kwargs = {"url": app.config["REDIS_URL"]}
    else:
        huey.storage_class = SqliteStorage
        huey.storage_kwargs = {"filename": app.config["HUEY_SQLITE_PATH"]}
    huey._immediate = True  # force the setter to rebuild storage with the new class
    huey.immediate = False


def app_context():
    """The current app context, or the worker's app when a consumer runs the task."""
    if has_app_context():
        return contextlib.nullcontext(current_app)
    if _worker_app is None:  # pragma: no cover - consumer started without webapp.worker
        raise RuntimeError("jobs used without an app; start the consumer with webapp.worker.huey")
    return _worker_app.app_context()


# No retries of their own: a failed try is recorded on the outbox row and the relay below sends it
# again when it is due (exponential backoff over OUTBOX_RETRY_HOURS).
@huey.task()
def deliver_mail(mail_id: int) -> str:
    from .services import mail

    with app_context():
        return mail.deliver_by_id(mail_id)


@huey.task()
def dispatch_platform_events() -> int:
    from .services import platform

    with app_context():
        return platform.dispatch_pending_now()


@huey.periodic_task(crontab(minute="*"))
def relay_outbox() -> dict:
    """Every minute: send the mail and platform events that are due (services/outbox.py)."""
    from .services import outbox

    with app_context():
        result = outbox.relay()
        return {"mail": result.mail, "events": result.events}


@huey.on_startup()
def _relay_at_start() -> None:
    """A consumer that starts (after a crash, a deploy) first sends what is due."""
    try:
        relay_outbox()
    except Exception:  # noqa: BLE001 - the periodic run tries again within a minute
        log.exception("could not queue the outbox relay at start")
