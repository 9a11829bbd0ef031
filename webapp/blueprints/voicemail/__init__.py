from flask import Blueprint

bp = Blueprint("voicemail", __name__)

from . import routes  # noqa: E402,F401
