from flask import abort, current_app, redirect, render_template, url_for
from flask_login import current_user, login_required

from ... import web
from ...htmx import render
from ...services import authz, dashboard, mail
from ...services.errors import AccessDenied
from . import bp


@bp.get("/")
@login_required
def home():
    return redirect(url_for(web.home_endpoint()))


@bp.get("/me")
@login_required
def my_services():
    profile = authz.own_profile(web.session(), current_user)
    if profile is None:
        raise AccessDenied(dashboard.NO_PROFILE_REASON)
    cards = dashboard.service_cards(web.session(), profile)
    return render("dashboard/my_services.html", "partials/dashboard/_services.html",
                  profile=profile, cards=cards)


@bp.get("/favicon.ico")
def favicon():
    """Browsers and tools that ask for /favicon.ico get the page's icon, not a 404."""
    return redirect(url_for("static", filename="favicon.svg"), 301)


@bp.get("/no-role")
@login_required
def no_role():
    return render_template("dashboard/no_role.html")


def _dev_mailbox_enabled() -> None:
    if not current_app.config.get("DEV_MAILBOX"):
        abort(404)


@bp.get("/dev/mailbox")
def dev_mailbox():
    _dev_mailbox_enabled()
    return render("dashboard/dev_mailbox.html", "partials/dashboard/_mailbox.html",
                  messages=mail.local_outbox(web.session()))


@bp.get("/dev/mailbox/<int:mail_id>")
def dev_mail(mail_id: int):
    _dev_mailbox_enabled()
    from ...models import MailMessage

    return render_template("dashboard/dev_mail.html", message=web.get_or_404(MailMessage, mail_id))
