from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from ... import web
from ...htmx import redirect, render, wants_partial
from ...models import MailMessage, PlatformEvent
from ...services import authz, outbox
from ...services.errors import NotFound
from . import bp

KINDS = {"mail": MailMessage, "event": PlatformEvent}


def _require_back_office() -> None:
    # Not the caller's page to know about: 404, as for any object outside their scope.
    if not authz.can_manage_outbox(current_user):
        raise NotFound(_l("This page does not exist or is no longer there."))


def _page(**extra):
    mails, events = outbox.undeliverable(web.session())
    return render("outbox/index.html", "partials/outbox/_list.html", mails=mails, events=events, **extra)


@bp.get("")
@login_required
def index():
    _require_back_office()
    return _page()


@bp.post("/<kind>/<int:item_id>/resend")
@login_required
def resend(kind: str, item_id: int):
    _require_back_office()
    model = KINDS.get(kind)
    row = web.session().get(model, item_id) if model is not None else None
    if row is None:
        raise NotFound(_l("This item does not exist or has been deleted."))
    outbox.resend(web.session(), current_user, row)
    if not wants_partial():
        from flask import url_for

        return redirect(url_for("outbox.index"))
    return _page(trigger={"toast": str(_l("Queued to be sent again."))})
