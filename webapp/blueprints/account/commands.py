"""Operator commands for logins: ``flask --app webapp account end-sessions EMAIL`` and
``… account reset-two-factor EMAIL``."""

from __future__ import annotations

import click

from . import bp


def _user(session, email: str):
    from ...services import accounts

    user = accounts.find_user_by_email(session, email)
    if user is None:
        raise click.ClickException(f"no login with the address {email}")
    return user


@bp.cli.command("end-sessions")
@click.argument("email")
def end_sessions_command(email: str) -> None:
    """Sign a login out on every device (for example after a stolen laptop)."""
    from ...extensions import db
    from ...services import sessions

    ended = sessions.end_all(db.session, _user(db.session, email))
    db.session.commit()
    click.echo(f"{ended} session(s) ended")


@bp.cli.command("reset-two-factor")
@click.argument("email")
def reset_two_factor_command(email: str) -> None:
    """Turn two-factor sign-in off for a login that lost its phone and its recovery codes, and
    end its sessions. Check first that the request comes from the person who owns the login."""
    from ...extensions import db
    from ...services import sessions, totp

    user = _user(db.session, email)
    totp.reset_by_operator(db.session, user)
    sessions.end_all(db.session, user)
    db.session.commit()
    click.echo(f"two-factor sign-in of {user.email} is off; it signs in with the password alone now")
