"""Signed JSON API for the telephony platform (``/api/v1``); the only JSON in the portal."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import routes  # noqa: E402,F401
