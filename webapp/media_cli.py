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
    try:
        result = storage.sweep(db.session, grace)
    except storage.StorageUnavailable as exc:
        raise click.ClickException(f"the media store does not answer: {exc.__cause__ or exc}") from exc
    finally:
        db.session.rollback()
    click.echo(f"removed {result.orphans} files no row refers to and {result.temporaries} stale temporaries; "
               f"moved {result.completed} committed files into place")


@media.command("migrate")
@click.option("--from", "source_root", type=click.Path(file_okay=False), default=None,
              help="The local media folder to copy from (default MEDIA_ROOT).")
@click.option("--verify-only", is_flag=True, help="Copy nothing; list files missing or different in the store.")
def migrate_command(source_root: str | None, verify_only: bool) -> None:
    """Copy the local media folder into the configured store (MEDIA_STORAGE=s3) and verify each
    file by reading it back. Resumable: files already there with the same SHA-256 are skipped."""
    from flask import current_app

    from .services import storage

    source = storage.LocalBackend(source_root or current_app.config["MEDIA_ROOT"])
    target = storage.backend()
    if isinstance(target, storage.LocalBackend) and target.root.resolve() == source.root.resolve():
        raise click.UsageError("The configured store is this folder: set MEDIA_STORAGE=s3 and MEDIA_S3_BUCKET first.")
    if not source.root.is_dir():
        raise click.UsageError(f"No media folder at {source.root}.")

    def progress(key: str, ok: bool) -> None:
        click.echo(f"{'copied' if ok else 'FAILED'} {key}")

    result = storage.copy_all(source, target, verify_only=verify_only, progress=progress)
    if verify_only:
        click.echo(f"{result.present} files verified in the store, {len(result.failed)} missing or different")
        for key in result.failed:
            click.echo(f"missing or different: {key}")
    else:
        click.echo(f"{result.copied} copied and verified, {result.present} already there, "
                   f"{len(result.failed)} failed")
    if result.failed:
        raise SystemExit(1)


def init_app(app: Flask) -> None:
    from .services import media_jobs  # noqa: F401  (registers the periodic sweep)

    app.cli.add_command(media)
