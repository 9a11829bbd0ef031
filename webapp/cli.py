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
        """Deliver pending provisioning events and mail now (without the queue consumer)."""
        from .extensions import db
        from .models import DeliveryStatus, MailMessage
        from .services import mail, platform

        click.echo(f"platform events delivered: {platform.dispatch_pending_now()}")
        ids = db.session.scalars(
            db.session.query(MailMessage.id).filter(MailMessage.status == DeliveryStatus.PENDING).statement
        ).all()
        for mail_id in ids:
            mail.deliver_by_id(mail_id)
        click.echo(f"mail delivered: {len(ids)}")
