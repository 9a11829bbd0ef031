"""„Mein Konto“: every login's own name, language, password, two-factor sign-in and sessions."""

from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/account")

from . import commands, routes  # noqa: E402,F401
