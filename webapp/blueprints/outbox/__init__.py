"""The back office's view of the outbox relay: undeliverable mail and platform events, resend."""

from flask import Blueprint

bp = Blueprint("outbox", __name__, url_prefix="/backoffice/outbox")

from . import routes  # noqa: E402,F401
