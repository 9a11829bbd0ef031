"""Background jobs on Huey.

The queue object exists at import time (task decorators need it) but starts in memory-only
immediate mode; ``init_app`` points it at SQLite or Redis from the app's config, so importing
this module opens no file and no connection.
"""

from __future__ import annotations

import contextlib
import logging

from flask import Flask, current_app, has_app_context
from huey import Huey
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


@huey.task(retries=5, retry_delay=30)
def deliver_mail(mail_id: int) -> str:
    from .services import mail

    with app_context():
        return mail.deliver_by_id(mail_id)


@huey.task(retries=5, retry_delay=15)
def dispatch_platform_events() -> int:
    from .services import platform

    with app_context():
        return platform.dispatch_pending_now()
