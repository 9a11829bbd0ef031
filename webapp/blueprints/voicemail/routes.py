from flask_login import login_required

from ... import web
from ...htmx import render
from . import bp


@bp.get("/profiles/<int:profile_id>/voicemail")
@login_required
def index(profile_id: int):
    profile = web.profile_for_use(profile_id)
    return render("voicemail/index.html", "partials/voicemail/_index.html", profile=profile)
