"""Command-line entry points: ``flask --app webapp demo``, ``… dispatch`` and friends."""

from __future__ import annotations

import click
from flask import Flask


def init_app(app: Flask) -> None:
    from . import media_cli

    media_cli.init_app(app)

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

    @app.cli.command("conference-simulate")
    @click.argument("number")
    @click.argument("action", type=click.Choice(["join", "talk", "quiet", "leave", "list"]))
    @click.option("--name", default=None, help="join: the caller's name; talk/quiet/leave: whom (name or call id).")
    @click.option("--moderator", is_flag=True, help="join: as moderator.")
    def conference_simulate_command(number, action, name, moderator) -> None:
        """Make callers join, talk and leave the conference room on NUMBER, as the platform reports it.

        Without --name, leave makes everyone leave."""
        from .extensions import db
        from .services.conference import live, room
        from .services.deposits import normalize_number
        from .services.errors import DomainError

        session = db.session
        profile = room.profile_for_number(session, normalize_number(number) or "")
        if profile is None:
            raise click.ClickException(f"no conference room answers on {number}")
        try:
            person_id = None
            if action in ("talk", "quiet") or (action == "leave" and name):
                match = [p for p in live.present(session, profile) if name in (p.name, p.call_id)]
                if not match:
                    raise click.ClickException(f"nobody called {name!r} is in the room")
                person_id = match[0].id
            if action != "list":
                live.simulate(session, profile, action, person_id, name=name, moderator=moderator)
        except DomainError as exc:
            session.rollback()
            raise click.ClickException(str(exc.message)) from exc
        session.commit()
        for p in live.present(session, profile):
            flags = [f for f, on in (("moderator", p.is_moderator), ("talking", p.talking), ("muted", p.muted)) if on]
            click.echo(f"{p.call_id}\t{p.name or ''}\t{p.caller or 'withheld'}\t{' '.join(flags)}")
        click.echo(f"{len(live.present(session, profile))} in the room")
    @app.cli.command("fax-deposit")
    @click.argument("number")
    @click.option("--file", "document", type=click.File("rb"), help="A received fax as TIFF or PDF.")
    @click.option("--text", help="Text to fax (made into a G4 TIFF as the platform sends it).")
    @click.option("--caller", default=None, help="Sender number; leave out for a withheld number.")
    @click.option("--station-id", default=None, help="The sender's station ID.")
    def fax_deposit_command(number, document, text, caller, station_id) -> None:
        """Deposit a received fax for NUMBER as the telephony platform would."""
        import secrets

        from .extensions import db
        from .services.errors import DomainError
        from .services.fax import received

        if document and text:
            raise click.UsageError("Give either --file or --text, not both.")
        try:
            if document:
                fax, _created = received.deposit(db.session, received.DepositInput(
                    called=number, caller=caller, station_id=station_id, received_at=None,
                    platform_fax_id=f"local-{secrets.token_hex(8)}", document=document.read()))
            else:
                fax = received.deposit_text(db.session, number, text or "Testfax aus der Kommandozeile.",
                                            caller=caller, station_id=station_id)
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc.message)) from exc
        db.session.commit()
        click.echo(f"fax {fax.id} stored for {fax.called_e164} ({fax.pages} pages)")
