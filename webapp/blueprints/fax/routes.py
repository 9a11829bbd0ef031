from flask_login import login_required

from ... import web
from ...htmx import render
from ...models import Service
from ...services import dashboard
from . import bp


@bp.get("/profiles/<int:profile_id>/fax")
@login_required
def index(profile_id: int):
    profile = web.profile_for_use(profile_id)
    card = dashboard.service_card(web.session(), profile, Service.FAX)
    return render("fax/index.html", "partials/fax/_index.html", profile=profile, card=card)
