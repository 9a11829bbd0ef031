from flask_login import current_user, login_required

from ... import web
from ...htmx import render
from ...services import admin_overview
from . import bp


@bp.get("/ums")
@login_required
def overview():
    view = admin_overview.overview(web.session(), current_user)
    return render("admin/overview.html", "partials/admin/_overview.html", view=view)
