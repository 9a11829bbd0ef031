from urllib.parse import urlsplit

from flask import flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ... import web
from ...db import keep_on_refusal
from ...services import accounts
from ...services.errors import ValidationFailed
from . import bp
from .forms import LanguageForm, LoginForm, SetPasswordForm


def _safe_next(target: str | None) -> str | None:
    """A path on this site, or None. Browsers read a backslash as a slash and drop tabs and line
    breaks, so a backslash or a control character could turn the path into another site's URL."""
    if not target or "\\" in target or any(ch.isspace() or ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _sign_in(user) -> None:
    """A fresh session for the signed-in user: nothing from before the sign-in carries over."""
    session.clear()
    login_user(user)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for(web.home_endpoint()))
    form = LoginForm(next=request.args.get("next", ""))
    error = None
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        attempt = accounts.sign_in(web.session(), form.email.data, form.password.data, request.remote_addr)
        if attempt.user is not None:
            _sign_in(attempt.user)
            return redirect(_safe_next(form.next.data) or url_for(web.home_endpoint()))
        keep_on_refusal(web.session())  # the failed try counts
        if attempt.locked_until is not None:
            error = _("Too many failed sign-in attempts. Please wait %(minutes)d minutes and try again.",
                      minutes=accounts.LOGIN_LOCKOUT.seconds // 60)
            status = 429
        else:
            error = _("E-mail address or password is not correct.")
    return render_template("auth/login.html", form=form, error=error), status


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    session.clear()
    flash(_("You have been signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    user = accounts.token_user(web.session(), token, "set_password")
    if user is None:
        return render_template("auth/link_invalid.html"), 410
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = accounts.redeem_token(web.session(), token, "set_password", form.password.data)
        except ValidationFailed as exc:
            form.password.errors = [*form.password.errors, str(exc.message)]
        else:
            logout_user()
            _sign_in(user)
            flash(_("Your password is set. Welcome to the UMS Portal."), "success")
            return redirect(url_for(web.home_endpoint()))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/set_password.html", form=form, user=user), status


@bp.post("/language")
def set_language():
    form = LanguageForm()
    lang = form.lang.data if form.validate_on_submit() else "de"
    if current_user.is_authenticated:
        accounts.set_locale(web.session(), current_user, lang)
    target = _safe_next(form.next.data) or url_for(web.home_endpoint() if current_user.is_authenticated else "auth.login")
    response = make_response(redirect(target, 303))
    response.set_cookie(web.LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response
