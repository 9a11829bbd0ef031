import time
from urllib.parse import urlsplit

from flask import (
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ... import web
from ...db import keep_on_refusal
from ...models import User
from ...services import accounts, password_reset, sessions, totp
from ...services.errors import ValidationFailed
from . import bp
from .forms import ForgotPasswordForm, LanguageForm, LoginForm, SecondFactorForm, SetPasswordForm

# Between the password and the second factor: the user id, when, and where to go (signed cookie).
PENDING_KEY = "pending_second_factor"
PENDING_VALIDITY_SECONDS = 5 * 60


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
    """A fresh session for the signed-in user: nothing from before the sign-in carries over, and a
    server-side session row that sign-out (here or everywhere) ends."""
    session.clear()
    token = sessions.start(web.session(), user, user_agent=request.headers.get("User-Agent", ""),
                           client_address=request.remote_addr or "")
    login_user(user)
    session[sessions.COOKIE_KEY] = token
    g.pop("nav", None)  # the navigation computed so far (a mail rendered in this request) was the visitor's


def _continue_sign_in(user, next_target: str | None):
    """After the password: straight in, or on to the second factor when the login has it on."""
    if totp.is_enabled(user):
        session.clear()
        session[PENDING_KEY] = {"uid": user.id, "at": int(time.time()), "next": _safe_next(next_target)}
        return redirect(url_for("auth.second_factor"))
    _sign_in(user)
    return redirect(_safe_next(next_target) or url_for(web.home_endpoint()))


def _pending_user():
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_VALIDITY_SECONDS:
        return None, None
    user = web.session().get(User, pending.get("uid"))
    if user is None or not user.active or not totp.is_enabled(user):
        return None, None
    return user, pending.get("next")


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
            return _continue_sign_in(attempt.user, form.next.data)
        keep_on_refusal(web.session())  # the failed try counts
        if attempt.locked_until is not None:
            error = _("Too many failed sign-in attempts. Please wait %(minutes)d minutes and try again.",
                      minutes=accounts.LOGIN_LOCKOUT.seconds // 60)
            status = 429
        else:
            error = _("E-mail address or password is not correct.")
    return render_template("auth/login.html", form=form, error=error), status


@bp.route("/login/code", methods=["GET", "POST"])
def second_factor():
    """The second step of a sign-in with two-factor on: a code of the app or a recovery code."""
    if current_user.is_authenticated:
        return redirect(url_for(web.home_endpoint()))
    user, next_target = _pending_user()
    if user is None:
        session.pop(PENDING_KEY, None)
        flash(_("Please sign in again."), "info")
        return redirect(url_for("auth.login"))
    form = SecondFactorForm()
    error = None
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        result = totp.verify_sign_in(web.session(), user, form.code.data, request.remote_addr or "")
        if result.ok:
            _sign_in(user)
            if result.used_recovery_code:
                flash(_("You signed in with a recovery code; %(n)d of them are left. New ones are on „Mein Konto“.",
                        n=result.recovery_codes_left), "info")
            return redirect(next_target or url_for(web.home_endpoint()))
        keep_on_refusal(web.session())  # the wrong code counts toward the sign-in throttle
        if result.locked_until is not None:
            error = _("Too many failed sign-in attempts. Please wait %(minutes)d minutes and try again.",
                      minutes=accounts.LOGIN_LOCKOUT.seconds // 60)
            status = 429
        else:
            error = _("This code is not correct. Enter the 6 digits your app shows now, or a recovery code.")
    return render_template("auth/second_factor.html", form=form, error=error), status


@bp.post("/logout")
@login_required
def logout():
    sessions.end(web.session(), session.get(sessions.COOKIE_KEY))
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
            sessions.end_all(web.session(), user)
            logout_user()
            response = _continue_sign_in(user, None)  # a fresh session: the message goes in after it
            flash(_("Your password is set. Welcome to the UMS Portal."), "success")
            return response
    status = 422 if request.method == "POST" else 200
    return render_template("auth/set_password.html", form=form, user=user), status


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password():
    """„Passwort vergessen?“: the same answer whether or not the address has a login."""
    form = ForgotPasswordForm(email=request.args.get("email", ""))
    if form.validate_on_submit():
        result = password_reset.request_link(web.session(), form.email.data, request.remote_addr or "")
        if result.client_limited:
            error = _("Too many requests from your network. Please wait an hour and try again.")
            return render_template("auth/forgot_password.html", form=form, error=error), 429
        return render_template("auth/forgot_password_sent.html",
                               minutes=int(password_reset.VALIDITY.total_seconds() // 60))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/forgot_password.html", form=form, error=None), status


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    user = password_reset.user_for_link(web.session(), token)
    if user is None:
        return render_template("auth/link_invalid.html", reset=True), 410
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = password_reset.reset(web.session(), token, form.password.data)
        except ValidationFailed as exc:
            form.password.errors = [*form.password.errors, str(exc.message)]
        else:
            logout_user()
            response = _continue_sign_in(user, None)
            flash(_("Your new password is set. Every other session of your login has been ended."), "success")
            return response
    status = 422 if request.method == "POST" else 200
    return render_template("auth/set_password.html", form=form, user=user, reset=True), status


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


@bp.record_once
def _check_configuration(state) -> None:
    """An unknown group in TWO_FACTOR_REQUIRED stops the start, instead of protecting no one."""
    totp.parse_required(state.app.config.get("TWO_FACTOR_REQUIRED"))


def required_groups() -> frozenset[str]:
    return totp.parse_required(current_app.config.get("TWO_FACTOR_REQUIRED"))
