from flask import current_app, flash, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from ... import web
from ...db import writes
from ...htmx import redirect, render
from ...services import accounts, sessions, totp
from ...services.errors import DomainError, NotFound
from . import bp
from .forms import (
    AccountProfileForm,
    ActionForm,
    ChangePasswordForm,
    PasswordConfirmForm,
    TotpConfirmForm,
)

PAGE = "account/index.html"


def _required() -> frozenset[str]:
    return totp.parse_required(current_app.config.get("TWO_FACTOR_REQUIRED"))


def _context(**overrides) -> dict:
    """Everything the „Mein Konto“ page shows; a partial re-renders with its own form replaced."""
    db = web.session()
    context = {
        "profile_form": AccountProfileForm(display_name=current_user.display_name,
                                           locale=current_user.locale or "de"),
        "password_form": ChangePasswordForm(),
        "disable_form": PasswordConfirmForm(prefix="disable"),
        "codes_form": PasswordConfirmForm(prefix="codes"),
        "action_form": ActionForm(),
        "two_factor_on": totp.is_enabled(current_user),
        "two_factor_required": totp.is_required(current_user, _required()),
        "recovery_codes_left": totp.remaining_recovery_codes(db, current_user),
        "active_sessions": sessions.active(db, current_user, session.get(sessions.COOKIE_KEY),
                                           current_app.config["PERMANENT_SESSION_LIFETIME"]),
        "password_saved": False,
    }
    context.update(overrides)
    return context


def _attach(form, exc: DomainError) -> None:
    field = getattr(form, exc.field, None) if exc.field else None
    target = field if field is not None else next(iter(form))
    target.errors = [*target.errors, str(exc.message)]


@bp.get("")
@login_required
def overview():
    return render(PAGE, PAGE, **_context())


@bp.post("/profile")
@login_required
def update_profile():
    form = AccountProfileForm()
    if form.validate_on_submit():
        try:
            accounts.update_profile(web.session(), current_user, form.display_name.data, form.locale.data)
        except DomainError as exc:
            _attach(form, exc)
        else:
            flash(_("Your name and language are saved."), "success")
            response = redirect(url_for("account.overview"))  # a full load: the page's language may change
            response.set_cookie(web.LANG_COOKIE, form.locale.data, max_age=365 * 24 * 3600, samesite="Lax",
                                httponly=True)
            return response
    return render(PAGE, "partials/account/_profile.html", status=422, **_context(profile_form=form))


@bp.post("/password")
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(web.session(), current_user, form.current_password.data, form.password.data)
        except DomainError as exc:
            _attach(form, exc)
        else:
            # every session ended, this browser's too: it goes on with a new one, so a copy of its
            # old cookie is worth nothing (the CSRF token in the page stays valid)
            session[sessions.COOKIE_KEY] = sessions.start(
                web.session(), current_user, user_agent=request.headers.get("User-Agent", ""),
                client_address=request.remote_addr or "")
            message = _("Your password is changed. Every other session of your login has been ended.")
            return render(PAGE, "partials/account/_password.html", trigger={"toast": message},
                          **_context(password_saved=True))
    return render(PAGE, "partials/account/_password.html", status=422, **_context(password_form=form))


@bp.post("/sessions/<int:session_id>/end")
@login_required
def end_session(session_id: int):
    if not ActionForm().validate_on_submit():
        return render(PAGE, "partials/account/_sessions.html", status=422, **_context())
    if not sessions.end_one(web.session(), current_user, session_id):
        raise NotFound(_("This session does not exist or has already ended."))
    return render(PAGE, "partials/account/_sessions.html", trigger={"toast": _("The session has been ended.")},
                  **_context())


@bp.post("/sessions/end-all")
@login_required
def end_all_sessions():
    sessions.end_all(web.session(), current_user)
    logout_user()
    session.clear()
    flash(_("You have been signed out on every device."), "info")
    return redirect(url_for("auth.login"))


# --- two-factor sign-in ----------------------------------------------------------------------------

SETUP_PAGE = "account/two_factor_setup.html"
SETUP_PARTIAL = "partials/account/_two_factor_setup.html"
CODES_PARTIAL = "partials/account/_recovery_codes.html"


@bp.get("/two-factor")
@login_required
@writes  # a new secret waits for its confirmation
def two_factor_setup():
    if totp.is_enabled(current_user):
        return redirect(url_for("account.overview"))
    setup = totp.begin_setup(web.session(), current_user)
    return render(SETUP_PAGE, SETUP_PARTIAL, setup=setup, form=TotpConfirmForm(),
                  required=totp.is_required(current_user, _required()))


@bp.post("/two-factor")
@login_required
def two_factor_confirm():
    if totp.is_enabled(current_user):
        return redirect(url_for("account.overview"))
    form = TotpConfirmForm()
    if form.validate_on_submit():
        try:
            codes = totp.confirm(web.session(), current_user, form.code.data)
        except DomainError as exc:
            _attach(form, exc)
        else:
            return render(SETUP_PAGE, CODES_PARTIAL, codes=codes, first=True,
                          trigger={"toast": _("Two-factor sign-in is on.")})
    setup = totp.begin_setup(web.session(), current_user)
    return render(SETUP_PAGE, SETUP_PARTIAL, status=422, setup=setup, form=form,
                  required=totp.is_required(current_user, _required()))


@bp.post("/two-factor/recovery-codes")
@login_required
def renew_recovery_codes():
    form = PasswordConfirmForm(prefix="codes")
    if form.validate_on_submit():
        try:
            codes = totp.new_recovery_codes(web.session(), current_user, form.password.data)
        except DomainError as exc:
            _attach(form, exc)
        else:
            return render(SETUP_PAGE, CODES_PARTIAL, codes=codes, first=False)
    return render(PAGE, "partials/account/_two_factor.html", status=422, **_context(codes_form=form))


@bp.post("/two-factor/disable")
@login_required
def disable_two_factor():
    form = PasswordConfirmForm(prefix="disable")
    if form.validate_on_submit():
        try:
            totp.disable(web.session(), current_user, form.password.data, _required())
        except DomainError as exc:
            _attach(form, exc)
        else:
            return render(PAGE, "partials/account/_two_factor.html",
                          trigger={"toast": _("Two-factor sign-in is off.")}, **_context())
    return render(PAGE, "partials/account/_two_factor.html", status=422, **_context(disable_form=form))


# Pages a login that must set up two-factor sign-in may still open.
SETUP_ALLOWED = {"account.two_factor_setup", "account.two_factor_confirm", "auth.logout", "auth.login",
                 "auth.set_language", "auth.second_factor", "static"}


@bp.before_app_request
def _send_to_two_factor_setup():
    """Where configuration requires two-factor sign-in, a login without it sets it up first."""
    if (request.endpoint in SETUP_ALLOWED or request.endpoint is None or request.blueprint == "api"
            or not current_app.config.get("TWO_FACTOR_REQUIRED")):
        return None
    if not current_user.is_authenticated or totp.is_enabled(current_user):
        return None
    if not totp.is_required(current_user, _required()):
        return None
    return redirect(url_for("account.two_factor_setup"))
