"""Domain errors raised by services and turned into messages by the web layer."""

from __future__ import annotations


class DomainError(Exception):
    """An expected refusal with a message a customer understands."""

    status = 409

    def __init__(self, message: str = "", *, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


class AccessDenied(DomainError):
    status = 403

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class NotFound(DomainError):
    status = 404


class ValidationFailed(DomainError):
    status = 422


class LicenceExhausted(DomainError):
    pass


class EmailTaken(DomainError):
    pass


class NumberTaken(DomainError):
    pass
