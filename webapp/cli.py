"""Command-line entry points: ``flask --app webapp demo``, ``… dispatch`` and friends."""

from __future__ import annotations

import click
from flask import Flask


def init_app(app: Flask) -> None:
    @app.cli.command("demo")
    def demo_command() -> None:
        """Create the demo data of domain.md §6 (idempotent)."""
        from .extensions import db
        from .services import demo

        session = db.session
        created = demo.load(session)
        session.commit()
        click.echo("demo data: " + ("created" if created else "already present"))

    @app.cli.command("migrate")
    def migrate_command() -> None:
        """Bring the database schema to the newest migration."""
        from .migrations import upgrade

        upgrade(app.config["DATABASE_URL"])
        click.echo("database at head")

    @app.cli.command("dispatch")
    def dispatch_command() -> None:
        """Deliver every pending provisioning event and mail now, without waiting for its next try
        (the relay of the queue consumer sends what is due every minute)."""
        from .services import outbox

        result = outbox.relay(force=True)
        click.echo(f"platform events delivered: {result.events}")
        click.echo(f"mail delivered: {result.mail['sent']}")
        if result.mail["retry"] or result.mail["failed"]:
            click.echo(f"mail not delivered (tried again later): {result.mail['retry']}; "
                       f"undeliverable: {result.mail['failed']}")

    @app.cli.command("voicemail-deposit")
    @click.argument("number")
    @click.option("--file", "audio_file", type=click.File("rb"), help="An audio file (WAV, MP3, OGG, M4A, FLAC).")
    @click.option("--text", help="A sentence spoken offline by eSpeak NG.")
    @click.option("--caller", default=None, help="Caller number; leave out for a withheld number.")
    @click.option("--language", default="de", type=click.Choice(["de", "en"]))
    def voicemail_deposit_command(number, audio_file, text, caller, language) -> None:
        """Deposit a voicemail message for NUMBER as the telephony platform would."""
        from .extensions import db
        from .services import voicemail
        from .services.errors import DomainError

        if audio_file and text:
            raise click.UsageError("Give either --file or --text, not both.")
        try:
            message = voicemail.deposit_generated(
                db.session, number, text=text, data=audio_file.read() if audio_file else None,
                caller=caller, language=language)
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc.message)) from exc
        db.session.commit()
        click.echo(f"voicemail message {message.id} stored for {message.called_e164} "
                   f"({message.duration_ms / 1000:.1f} s)")
