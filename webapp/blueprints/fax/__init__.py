from flask import Blueprint

bp = Blueprint("fax", __name__)

from . import routes  # noqa: E402,F401
