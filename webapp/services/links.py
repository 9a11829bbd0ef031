"""Links in mails: absolute URLs built outside a request, and signed links that open one item
without signing in for a limited time (a voicemail message, a received fax, a recording)."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from .errors import DomainError, NotFound


class LinkExpired(DomainError):
    status = 410


def external_url(endpoint: str, **values) -> str:
    """An absolute link for mails, also outside a request (jobs, CLI)."""
    adapter = current_app.url_map.bind("localhost", url_scheme="http")
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + adapter.build(endpoint, values)


def local_time(moment: datetime) -> datetime:
    """``moment`` in the portal's time zone (Europe/Berlin): file names and "today" follow what
    people see on the pages and in the mails, not the server's UTC."""
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Europe/Berlin"))


class SignedLink:
    """Tokens for ``salt`` carrying a small dict, valid for ``max_age`` seconds."""

    def __init__(self, salt: str, max_age: int, expired_message, invalid_message=None):
        self.salt, self.max_age = salt, max_age
        self.expired_message = expired_message
        self.invalid_message = invalid_message or _l("This link is not valid.")

    def _serializer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=self.salt)

    def dumps(self, payload: dict) -> str:
        return self._serializer().dumps(payload)

    def loads(self, token: str) -> dict:
        """The payload; expired links raise ``LinkExpired`` (410), forged ones ``NotFound``."""
        try:
            payload = self._serializer().loads(token, max_age=self.max_age)
        except SignatureExpired as exc:
            raise LinkExpired(self.expired_message) from exc
        except BadSignature as exc:
            raise NotFound(self.invalid_message) from exc
        if not isinstance(payload, dict):
            raise NotFound(self.invalid_message)
        return payload
