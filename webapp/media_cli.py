"""``flask media …``: the sweep and the copy of media from the local folder to the object store."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask
from flask.cli import AppGroup

media = AppGroup("media", help="Media store: sweep leftovers, copy the local folder to the object store.")


@media.command("sweep")
@click.option("--grace-minutes", type=int, default=None,
              help="Only files older than this (default MEDIA_SWEEP_GRACE_MINUTES, 60).")
def sweep_command(grace_minutes: int | None) -> None:
    """Remove files no row refers to and stale temporaries of interrupted writes."""
    from .extensions import db
    from .services import storage

    grace = timedelta(minutes=grace_minutes) if grace_minutes is not None else None
    result = storage.sweep(db.session, grace)
    db.session.rollback()
    click.echo(f"removed {result.orphans} files no row refers to and {result.temporaries} stale temporaries; "
               f"moved {result.completed} committed files into place")


def init_app(app: Flask) -> None:
    from .services import media_jobs  # noqa: F401  (registers the periodic sweep)

    app.cli.add_command(media)
