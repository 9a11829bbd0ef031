"""Request plumbing shared by every blueprint: locale, login, one commit per request, refusals,
navigation by role and template filters."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from flask import (
    Flask,
    g,
    has_request_context,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from . import db as db_module
from . import rendering
from .extensions import db, login_manager
from .htmx import is_htmx, set_trigger, wants_partial
from .services import authz
from .services.errors import AccessDenied, DomainError, NotFound
from .services.memo import remember
from .services.phone import display as format_phone

LANGUAGES = ("de", "en")
LANG_COOKIE = "ums_lang"


def select_locale() -> str:
    if not has_request_context():  # jobs, CLI, services called from tests
        return "de"
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in LANGUAGES:
        return cookie
    return "de"


class DatabaseIdConverter(IntegerConverter):
    """``<int:…>`` in every route: an id the database's INTEGER column can hold, else no match (404).

    A larger number would reach the database and fail there (an overflow on SQLite, which also left
    its write lock held, a DataError on PostgreSQL)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "SAMEORIGIN",  # the portal may frame its own pages (a fax preview)
    "Permissions-Policy": "camera=(), geolocation=(), microphone=(self)",
}


def is_api_request() -> bool:
    """The platform's JSON API, also at its URLs that match no route (404, 405)."""
    return request.blueprint == "api" or request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = DatabaseIdConverter
    from . import inputs
    from .models import User

    inputs.install()  # every form's text fields refuse control characters (NUL …)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.session_protection = "basic"

    user_options = (joinedload(User.grants), joinedload(User.tenant))

    @login_manager.user_loader
    def _load_user(user_id: str):
        # the signed cookie alone is not enough: its server-side session row must still be open
        from flask import session as cookie

        from .services import sessions

        along = _profile_along()
        user = sessions.user_for(db.session, int(user_id), cookie.get(sessions.COOKIE_KEY),
                                 app.config["PERMANENT_SESSION_LIFETIME"], options=user_options,
                                 touch=_touch_session if db_module.request_reads_only() else None, along=along)
        if user is not None and along is not None:
            g.profile_along = along
        return user

    def _profile_along():
        """The profile of a view marked with ``loads_profile``, to load with the signed-in user."""
        from .models import UmsProfile
        from .services import sessions

        options = getattr(app.view_functions.get(request.endpoint), "profile_load", None)
        profile_id = (request.view_args or {}).get("profile_id")
        if options is None or not isinstance(profile_id, int):
            return None
        return sessions.Along(UmsProfile, profile_id, options)

    def _touch_session(record_id: int, now) -> None:
        """A reading request notes the session's last use in a short write of its own; when the
        database is busy the note waits for the next minute instead of failing the page."""
        from .services import sessions

        own = db.new_session()
        try:
            sessions.mark_used(own, record_id, now)
            own.commit()
        except Exception:  # noqa: BLE001 - a missed last-use note is harmless
            app.logger.warning("could not note the session's last use", exc_info=True)
        finally:
            db_module.end_session(own)

    @login_manager.unauthorized_handler
    def _unauthorized():
        login = url_for("auth.login", next=request.full_path if request.method == "GET" else None)
        if is_htmx():
            response = make_response("", 401)
            response.headers["HX-Redirect"] = login
            return response
        if is_api_request():
            return {"error": "unauthorized"}, 401
        return redirect(login)

    @app.after_request
    def _security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if app.config.get("CONTENT_SECURITY_POLICY"):
            response.headers.setdefault("Content-Security-Policy", app.config["CONTENT_SECURITY_POLICY"])
        return response

    @app.after_request
    def _commit(response):
        session = g.get("db_session")
        if session is not None and not db_module.nothing_to_commit(session):
            if response.status_code < 400 or session.info.pop(db_module.COMMIT_ON_REFUSAL, False):
                try:
                    session.commit()
                except Exception:
                    session.rollback()  # the failed commit leaves nothing open (teardown closes)
                    raise
            else:
                session.rollback()
        return response

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError):
        if is_api_request():
            return {"error": type(exc).__name__, "message": str(exc.message)}, exc.status
        status = exc.status
        if isinstance(exc, AccessDenied):
            template = "errors/denied"
        elif isinstance(exc, NotFound):
            template = "errors/not_found"
        else:
            template = "errors/refused"
        name = f"partials/{template.replace('/', '/_')}.html" if wants_partial() else f"{template}.html"
        response = make_response(render_template(name, message=exc.message), status)
        response.vary.add("HX-Request")
        return response

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError):
        if is_api_request():
            return {"error": "csrf", "message": exc.description}, 400
        message = _l("Your form was open too long or came from elsewhere. Please reload the page and try again.")
        if is_htmx() and not current_user.is_authenticated:
            # the session ended (and its token with it): to the login, as for any signed-out htmx call
            response = make_response("", 401)
            response.headers["HX-Redirect"] = url_for("auth.login", next=_current_page())
            return response
        name = "partials/errors/_refused.html" if wants_partial() else "errors/refused.html"
        response = make_response(render_template(name, message=message), 400)
        if is_htmx():  # htmx swaps no 400: say it in a toast, which HX-Trigger raises whatever the status
            set_trigger(response, {"toast": str(message)})
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if is_api_request():
            return {"error": exc.name, "message": exc.description}, exc.code
        template = "errors/refused"
        if exc.code == 404:
            message = _l("This page does not exist or is no longer there.")
            template = "errors/not_found"
        elif exc.code == 413:
            message = _l("The upload is too large.")
        else:
            message = exc.description
        name = f"partials/{template.replace('/', '/_')}.html" if wants_partial() else f"{template}.html"
        response = make_response(render_template(name, message=message, code=exc.code), exc.code or 500)
        response.vary.add("HX-Request")
        return response

    @app.errorhandler(500)
    def _server_error(exc):
        # The session stays in ``g`` (the teardown closes it whatever happens here); what the
        # failed request did is undone now, so nothing of it is committed by ``_commit``.
        locale = _known_locale()  # before the rollback expires the signed-in user
        session = g.get("db_session")
        if session is not None:
            try:
                session.rollback()
            except Exception:  # noqa: BLE001 - the connection may be what failed
                db_module.end_session(g.pop("db_session", None))
        if is_api_request():
            return {"error": "internal", "message": "Internal error; nothing was changed."}, 500
        return _server_error_page(locale)

    @app.context_processor
    def _shell_context():
        return {"nav": LazyNavigation(), "current_locale": select_locale(), "languages": LANGUAGES,
                "voicemail_badge": voicemail_badge, "fax_badge": fax_badge}

    app.jinja_env.filters["phone"] = format_phone
    app.jinja_env.filters["datetime"] = rendering.format_moment
    # <time datetime>: HTML allows at most milliseconds, so whole seconds
    app.jinja_env.filters["isodatetime"] = lambda value: value.isoformat(timespec="seconds") if value else ""
    rendering.init_app(app)
    app.jinja_env.globals["now"] = datetime.now
    app.jinja_env.globals["service_url"] = service_url


def _known_locale() -> str:
    """The signed-in user's language if it is already loaded, else the cookie's: no database."""
    user = g.get("_login_user")
    loaded = vars(user).get("locale") if user is not None and hasattr(user, "__dict__") else None
    if loaded in LANGUAGES:
        return loaded
    cookie = request.cookies.get(LANG_COOKIE)
    return cookie if cookie in LANGUAGES else "de"


def _server_error_page(locale: str):
    """The 500 page, rendered without the database (which may be the cause): no navigation, no
    signed-in user, in the language known before the failure."""
    from flask_babel import force_locale

    g.nav = []
    g._login_user = login_manager.anonymous_user()  # the header then needs no database
    g.server_error = True
    message = _l("Something went wrong on our side; nothing was changed. Please try again.")
    name = "partials/errors/_refused.html" if wants_partial() else "errors/refused.html"
    with force_locale(locale):
        response = make_response(render_template(name, message=message, code=500), 500)
    response.vary.add("HX-Request")
    return response


def _current_page() -> str | None:
    """The path of the page an htmx request came from (its HX-Current-URL), to return to."""
    from urllib.parse import urlsplit

    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    if not current.path.startswith("/"):
        return None
    return current.path + (f"?{current.query}" if current.query else "")


def service_url(service, profile_id: int) -> str:
    """The page of one service (Fax, Anrufbeantworter, Konferenz) of a profile."""
    from .services.dashboard import SERVICE_ENDPOINTS

    return url_for(SERVICE_ENDPOINTS[service], profile_id=profile_id)


def navigation() -> list[dict]:
    """Navigation entries for the signed-in user's roles, computed once per request."""
    if "nav" in g:
        return g.nav
    items: list[dict] = []
    if current_user and current_user.is_authenticated:
        session = db.session
        if authz.own_profile(session, current_user) is not None:
            items.append({"endpoint": "dashboard.my_services", "label": _l("My services")})
        ums_customers = authz.customers_with_ums_access(session, current_user)
        if ums_customers or current_user.tenant_id:
            # the FAQ's menu: „IPfonie SIP“ → „Unified Messaging“ (Centraflex: under its product name)
            lines = {c.product_line.value for c in ums_customers} or {"ipfonie"}
            label = " / ".join(str(PRODUCT_MENU_LABELS[line]) for line in sorted(lines, reverse=True))
            items.append({"endpoint": "admin.overview", "label": label, "children": [
                {"endpoint": "admin.overview", "label": _l("Unified Messaging")}]})
        visible = authz.customers_visible(session, current_user)
        if visible and not authz.is_back_office(current_user):
            from .services import cart

            may_order = bool(cart.ordering_customers(session, current_user, visible))
            items.append({"endpoint": "orders.contracts", "label": _l("Globale Verwaltung"), "children": [
                {"endpoint": "orders.contracts", "label": _l("Aktive Verträge")},
                *([{"endpoint": "orders.my_orders", "label": _l("Meine Bestellungen")}] if may_order else [])]})
            if may_order:
                items.append({"endpoint": "orders.catalogue", "label": _l("Bestellsystem")})
        if authz.is_back_office(current_user):
            items.append({"endpoint": "orders.backoffice", "label": _l("Back office")})
            items.append({"endpoint": "outbox.index", "label": _l("Undeliverable")})
    g.nav = items
    return items


PRODUCT_MENU_LABELS = {"ipfonie": _l("IPfonie SIP"), "centraflex": _l("Centraflex")}


class LazyNavigation:
    """``nav`` in templates: computed only where a template shows it (full pages, not partials)."""

    def __iter__(self):
        return iter(navigation())

    def __len__(self) -> int:
        return len(navigation())


def voicemail_badge() -> int:
    """New voicemail messages of the signed-in user's own profile (the navigation badge)."""
    if not (current_user and current_user.is_authenticated):
        return 0
    from .services import voicemail

    profile = authz.own_profile(db.session, current_user)
    if profile is None:
        return 0
    return remember(db.session, ("voicemail_badge", profile.id),
                    lambda: voicemail.new_count(db.session, profile.id))


def fax_badge() -> int:
    """New received faxes of the signed-in user's own profile (the navigation badge)."""
    if not (current_user and current_user.is_authenticated):
        return 0
    from .services import fax

    profile = authz.own_profile(db.session, current_user)
    if profile is None:
        return 0
    return remember(db.session, ("fax_badge", profile.id), lambda: fax.new_count(db.session, profile.id))


def home_endpoint() -> str:
    items = navigation()
    return items[0]["endpoint"] if items else "dashboard.no_role"


def session():
    return db.session


def require(decision: authz.Decision) -> None:
    decision.require()


def get_or_404(model, ident):
    obj = db.session.get(model, ident)
    if obj is None:
        raise NotFound(_l("This item does not exist or has been deleted."))
    return obj


def loads_profile(*options):
    """Marks a view whose profile (its ``profile_id``) is loaded with these options in the same
    statement as the signed-in user: one round trip less for the pages read most. The view still
    calls ``profile_for_use`` with the same options, which then finds the profile loaded and
    checks access to it as always."""

    def mark(view):
        view.profile_load = options
        return view

    return mark


def profile_for_use(profile_id: int, *options):
    """Load a UMS profile (404) and check the signed-in user may use its services (403);
    ``options`` load what the page shows of it in the same query."""
    from flask_login import current_user

    from .models import UmsProfile

    along = g.get("profile_along")
    if not options:
        profile = get_or_404(UmsProfile, profile_id)
    else:
        if along is not None and (along.id, along.options) == (profile_id, options):
            profile = along.found  # loaded with the signed-in user
        else:
            profile = db.session.execute(_profile_with(options), {"id": profile_id}).unique().scalar_one_or_none()
        if profile is None:
            raise NotFound(_l("This item does not exist or has been deleted."))
    authz.can_use_profile(db.session, current_user, profile).require()
    return profile


@lru_cache(maxsize=16)
def _profile_with(options: tuple):
    """A profile with what a page loads with it (``options``, a module's constant), built once."""
    from sqlalchemy import bindparam, select

    from .models import UmsProfile

    return select(UmsProfile).where(UmsProfile.id == bindparam("id")).options(*options)
