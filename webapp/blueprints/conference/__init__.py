from flask import Blueprint

from ..guards import guard_ids

bp = Blueprint("conference", __name__)
guard_ids(bp)

from . import routes  # noqa: E402,F401
