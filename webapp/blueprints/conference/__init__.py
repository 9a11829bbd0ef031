from flask import Blueprint

bp = Blueprint("conference", __name__)

from . import routes  # noqa: E402,F401
