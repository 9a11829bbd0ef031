from flask_login import current_user, login_required

from ... import web
from ...htmx import render
from ...services import authz
from ...services import contracts as contract_service
from . import bp


@bp.get("/contracts")
@login_required
def contracts():
    authz.can_view_contracts(web.session(), current_user).require()
    rows = contract_service.active_contracts(web.session(), current_user)
    return render("orders/contracts.html", "partials/orders/_contracts.html", rows=rows)


@bp.get("/backoffice")
@login_required
def backoffice():
    authz.can_provision(current_user).require()
    return render("orders/backoffice.html", "partials/orders/_backoffice.html",
                  orders=contract_service.orders_to_provision(web.session()))
