"""Health and readiness for load balancers and orchestrators (no login, JSON).

``/healthz`` says the process answers; it touches neither the database nor anything else, so a
database outage does not make every node look dead at once. ``/readyz`` checks what a request
needs — the database, the queue and the media store — each within ``READY_TIMEOUT`` seconds
(default 2), and answers 503 naming the part that failed.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Blueprint, current_app, jsonify

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


def _database() -> None:
    from ..extensions import db

    # the DBAPI connection itself: no BEGIN (SQLite's write lock is taken at BEGIN here)
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("SELECT 1")
        cursor.fetchall()
        cursor.close()
    finally:
        raw.close()


def _queue() -> None:
    from ..jobs import huey

    if not huey.immediate:
        huey.pending_count()


def _storage() -> None:
    from ..services import storage

    storage.backend().check()


CHECKS = {"database": _database, "queue": _queue, "storage": _storage}


def _run(app, check, results: dict, name: str) -> None:
    try:
        with app.app_context():
            check()
        results[name] = "ok"
    except Exception as exc:  # reported, not raised: readiness names what is wrong
        log.warning("readiness: %s failed: %s", name, exc)
        results[name] = f"error: {type(exc).__name__}"


@bp.get("/readyz")
def readyz():
    app = current_app._get_current_object()
    timeout = float(app.config.get("READY_TIMEOUT") or 2)
    results: dict[str, str] = {}
    threads = [threading.Thread(target=_run, args=(app, check, results, name), daemon=True)
               for name, check in CHECKS.items()]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    checks = {name: results.get(name, f"error: no answer within {timeout:g} s") for name in CHECKS}
    ready = all(value == "ok" for value in checks.values())
    return jsonify(status="ready" if ready else "not ready", checks=checks), 200 if ready else 503
