"""Security notices to a login's own address: its password or its two-factor sign-in changed.

So that the owner learns of a change made by someone else (a stolen session or password) and can
act at once; the mail says what happened, never a secret."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from ..models import User
from . import mail
from .voicemail import external_url


def _what(kind: str, email: str):
    # lazy: rendered in the recipient's language when the mail is
    if kind == "password_changed":
        return _l("The password of your UMS Portal login %(email)s was changed. Every session of the "
                  "login was ended.", email=email)
    if kind == "password_reset":
        return _l("The password of your UMS Portal login %(email)s was reset with a link sent to this "
                  "address. Every session of the login was ended.", email=email)
    if kind == "two_factor_off":
        return _l("Two-factor sign-in of your UMS Portal login %(email)s was turned off: the password "
                  "alone signs in now.", email=email)
    raise ValueError(kind)


def send(session: Session, user: User, kind: str) -> None:
    mail.queue(session, user.email, "account_notice", subject=_l("Security notice for your UMS Portal login"),
               locale=user.locale or "de", what=_what(kind, user.email),
               link=external_url("auth.forgot_password"))
