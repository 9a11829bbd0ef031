"""„Passwort vergessen?“: a one-time reset link by mail.

The link is valid for one hour and once; only its hash is stored (``user_tokens``). Asking gives
the same answer whether or not the address has a login. Requests are limited per address (a
mailbox is not flooded; over the limit nothing is sent, still with the same answer) and per client
address (the caller is told to wait). Setting the new password ends every session of the login.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from ..models import User, utcnow
from . import account_notices, accounts, audit, mail, sessions
from .voicemail import external_url  # the absolute-link helper for mails, also outside a request

PURPOSE = "reset_password"
VALIDITY = timedelta(hours=1)
PER_ADDRESS = 3  # reset mails to one address per hour
PER_CLIENT = 10  # requests from one client address per hour
LIMIT_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class ResetRequest:
    """What the caller may learn: only whether this client must wait (never whether a login exists)."""

    client_limited: bool = False


def request_link(session: Session, email: str, client: str, now: datetime | None = None) -> ResetRequest:
    """Mail a reset link if the address belongs to an active login and is not over its limit."""
    now = now or utcnow()
    if not accounts.within_limit(session, accounts.throttle_key("reset-client", client or ""), now,
                                 limit=PER_CLIENT, window=LIMIT_WINDOW):
        return ResetRequest(client_limited=True)
    address = (email or "").strip().lower()
    if not accounts.within_limit(session, accounts.throttle_key("reset-address", address), now,
                                 limit=PER_ADDRESS, window=LIMIT_WINDOW):
        return ResetRequest()  # over the limit: nothing sent, the same answer
    user = accounts.find_user_by_email(session, address)
    if user is None or not user.active:
        return ResetRequest()
    token = accounts.issue_token(session, user, PURPOSE, VALIDITY)
    link = external_url("auth.reset_password", token=token)
    mail.queue(session, user.email, "password_reset", subject=_l("Reset your UMS Portal password"),
               locale=user.locale or "de", link=link, email=user.email, valid_minutes=int(VALIDITY.total_seconds() // 60))
    return ResetRequest()


def user_for_link(session: Session, token: str) -> User | None:
    return accounts.token_user(session, token, PURPOSE)


def reset(session: Session, token: str, password: str) -> User:
    """Set the new password through the link (used up) and end every session of the login."""
    user = accounts.redeem_token(session, token, PURPOSE, password)
    sessions.end_all(session, user)
    audit.record(session, user, "account.password_reset", subject=user.email)
    account_notices.send(session, user, "password_reset")
    session.flush()
    return user
