"""UMS-Administrator-Dashboard: profile list, create, edit, e-mail change by code, number
assignment, delete, audit trail. Routes parse, load + authorise, call one service, choose a view."""

from __future__ import annotations

import base64
import binascii

from flask import Response, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from ... import htmx, web
from ...htmx import render, wants_partial
from ...services import (
    audit_trail,
    authz,
    email_change,
    numbers,
    phone,
    profile_csv,
    profiles,
)
from ...services.errors import (
    DomainError,
    EmailTaken,
    LicenceExhausted,
    NumberTaken,
    ValidationFailed,
)
from ..downloads import csv_response
from . import bp
from .forms import (
    AssignNumberForm,
    CodeForm,
    EmptyForm,
    ImportForm,
    NewEmailForm,
    ProfileCreateForm,
    ProfileEditForm,
    choices,
    choose_placeholder,
)

FIELD_ERRORS = (ValidationFailed, EmailTaken, LicenceExhausted, NumberTaken)


def _attach(form, exc: DomainError) -> str | None:
    """Put a service's refusal next to its field; return it if no field of the form fits."""
    field = getattr(form, exc.field, None) if exc.field else None
    if field is None:
        return str(exc.message)
    field.errors = [*field.errors, str(exc.message)]
    return None


def _int_arg(name: str) -> int | None:
    try:
        return int(request.args.get(name, ""))
    except ValueError:
        return None


def _require_admin_area() -> None:
    authz.can_administer_ums(web.session(), current_user).require()


# --- profile list ----------------------------------------------------------------------------------

@bp.get("/ums")
@login_required
def overview():
    _require_admin_area()
    view = profiles.list_profiles(web.session(), current_user, _profile_filter())
    return render("admin/overview.html", "partials/admin/_profile_list.html", view=view,
                  page_sizes=profiles.PAGE_SIZES)


def _profile_filter() -> profiles.ProfileFilter:
    """The list's state from the URL: search, filters, sort, direction, page size and page."""
    return profiles.ProfileFilter.parse(
        q=request.args.get("q", "")[:100], contract_id=_int_arg("contract"), site_id=_int_arg("site"),
        page=_int_arg("page"), per_page=_int_arg("size"), sort=request.args.get("sort"),
        direction=request.args.get("dir"))


@bp.get("/ums/profiles.csv")
@login_required
def export_profiles():
    """The profile list with its search, filters and order, every page, as CSV."""
    _require_admin_area()
    rows = profile_csv.export_rows(web.session(), current_user, _profile_filter())
    return csv_response(profile_csv.export_header(), rows, "ums-profile")


# --- CSV import --------------------------------------------------------------------------------------

IMPORT_PARTIAL = "partials/admin/_import.html"


@bp.get("/ums/import/template.csv")
@login_required
def import_template():
    _require_admin_area()
    response = Response(profile_csv.template_csv(), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="ums-profile-vorlage.csv"'
    return response


@bp.route("/ums/import", methods=["GET", "POST"])
@login_required
def import_profiles():
    """Upload → preview (per row what happens, every error next to its row) → import all or none."""
    session = web.session()
    _require_admin_area()
    profiles.creatable_contracts(session, current_user)  # refused with the reason if none
    form = ImportForm()
    if not form.validate_on_submit():
        return render("admin/import.html", IMPORT_PARTIAL, status=422 if request.method == "POST" else 200,
                      form=form, preview=None, content="")
    data = _import_data(form)
    confirmed = request.form.get("action") == "import"
    try:
        if confirmed:
            preview, created = profile_csv.run_import(session, current_user, data)
        else:
            preview, created = profile_csv.check(session, current_user, data), []
    except DomainError as exc:
        form.file.errors = [*form.file.errors, str(exc.message)]
        return render("admin/import.html", IMPORT_PARTIAL, status=422, form=form, preview=None, content="")
    if created:
        flash(ngettext("%(num)d UMS profile imported; the invitations are on their way.",
                       "%(num)d UMS profiles imported; the invitations are on their way.", len(created)), "success")
        return htmx.redirect(url_for("admin.overview"))
    return render("admin/import.html", IMPORT_PARTIAL, status=200 if preview.ok else 422, form=form,
                  preview=preview, content=base64.b64encode(data).decode("ascii") if preview.ok else "")


def _import_data(form: ImportForm) -> bytes:
    """The uploaded file, or the content the clean preview carried to the „Import“ button."""
    if form.file.data:
        return form.file.data.read(profile_csv.MAX_BYTES + 1)
    try:
        return base64.b64decode(form.content.data or "", validate=True)
    except (binascii.Error, ValueError):
        return b""


# --- create ------------------------------------------------------------------------------------------

def _contract_choices(form: ProfileCreateForm, contracts, selected):
    form.contract_id.choices = choices(((c.id, f"{c.number} · {c.customer.name}") for c in contracts),
                                       choose_placeholder())
    form.site_id.choices = choices((s.id, s.name) for s in (selected.sites if selected else []))


@bp.route("/ums/profiles/new", methods=["GET", "POST"])
@login_required
def create_profile():
    session = web.session()
    _require_admin_area()
    contracts = profiles.creatable_contracts(session, current_user)
    # Without JavaScript, „Standort / Gruppe“ reloads by a GET of this form with what was typed.
    form = ProfileCreateForm(request.args) if request.method == "GET" and request.args else ProfileCreateForm()
    by_id = {c.id: c for c in contracts}
    selected = by_id.get(form.contract_id.data) or by_id.get(_int_arg("contract")) or contracts[0]
    if request.method == "GET":
        form.contract_id.data = selected.id
    _contract_choices(form, contracts, selected)
    licence_error = None
    if form.validate_on_submit():
        try:
            profile = profiles.create_profile(
                session, current_user, contract_id=form.contract_id.data, site_id=form.site_id.data,
                last_name=form.last_name.data, first_name=form.first_name.data, email=form.email.data,
                language=form.language.data)
        except FIELD_ERRORS as exc:
            licence_error = _attach(form, exc)
        else:
            flash(_("The UMS profile of %(name)s is created; the invitation has gone to %(email)s.",
                    name=profile.full_name, email=profile.email_normalized), "success")
            return htmx.redirect(url_for("admin.edit_profile", profile_id=profile.id))
    status = 422 if request.method == "POST" else 200
    return render("admin/profile_new.html", "partials/admin/_profile_form.html", status=status, form=form,
                  contract=selected, line=profiles.licence_line(session, selected), licence_error=licence_error)


@bp.get("/ums/profiles/new/sites")
@login_required
def site_choices():
    """„Standort / Gruppe“ and the „Lizenz“ line for the chosen contract (htmx region)."""
    session = web.session()
    contract = profiles.contract_for_admin(session, current_user, _int_arg("contract_id"))
    form = ProfileCreateForm(formdata=None)
    form.site_id.choices = choices((s.id, s.name) for s in contract.sites)
    return render("admin/profile_new.html", "partials/admin/_site_field.html", form=form, contract=contract,
                  line=profiles.licence_line(session, contract), licence_error=None)


# --- edit ----------------------------------------------------------------------------------------------

def _released_from_args(session, profile):
    """The undo offer after a release without JavaScript (``?released=<service>&number=<id>``)."""
    if request.method != "GET" or "released" not in request.args:
        return None
    return numbers.released_offer(session, profile, request.args.get("released", ""), _int_arg("number"))


def _edit_context(profile, **overrides):
    session = web.session()
    details = overrides.pop("details_form", None) or ProfileEditForm(formdata=None, obj=profile)
    details.site_id.choices = choices((s.id, s.name) for s in profile.contract.sites)
    if details.site_id.data is None:
        details.site_id.data = profile.site_id
    search_service = request.args.get("service", "")
    query = request.args.get("nq", "") if request.method == "GET" else ""
    context = {
        "profile": profile,
        "details_form": details,
        "site_locked": profiles.has_assigned_numbers(session, profile),
        "line": profiles.licence_line(session, profile.contract),
        "change": email_change.state(session, profile),
        "code_form": CodeForm(formdata=None),
        "email_form": NewEmailForm(formdata=None),
        "rows": numbers.service_rows(session, profile),
        "free": numbers.free_numbers(session, profile, query),
        "number_query": query,
        "search_service": search_service,
        "assign_errors": {},
        "service_labels": numbers.SERVICE_LABELS,
        "action_form": EmptyForm(formdata=None),
        "request_error": None,
        # (service, number) just released: the services region offers to undo it
        "released": _released_from_args(session, profile),
        # The id of the element that takes the focus after this swap, when the one the user acted
        # on is gone (htmx honours autofocus in swapped content and restores a kept id itself).
        "focus": None,
    }
    context.update(overrides)
    return context


def _respond(profile, partial: str, *, status: int = 200, toast: str | None = None,
             event: str | None = None, **overrides):
    """The region for htmx (with a toast and an event other regions listen to), or after success
    without htmx a 303 back to the page."""
    if status < 400 and not wants_partial():
        if toast:
            flash(toast, "success")
        return htmx.redirect(url_for("admin.edit_profile", profile_id=profile.id))
    trigger = {"toast": toast} if toast else {}
    if event:
        trigger[event] = True
    return render("admin/profile_edit.html", partial, status=status, trigger=trigger or None,
                  **_edit_context(profile, **overrides))


@bp.route("/ums/profiles/<int:profile_id>", methods=["GET", "POST"])
@login_required
def edit_profile(profile_id: int):
    session = web.session()
    profile = profiles.get_for_admin(session, current_user, profile_id)
    if request.method == "GET":
        return render("admin/profile_edit.html", "partials/admin/_profile_details.html",
                      **_edit_context(profile))
    form = ProfileEditForm()
    form.site_id.choices = choices((s.id, s.name) for s in profile.contract.sites)
    if form.validate_on_submit():
        try:
            profiles.update_profile(session, current_user, profile, last_name=form.last_name.data,
                                    first_name=form.first_name.data, site_id=form.site_id.data)
        except FIELD_ERRORS as exc:
            _attach(form, exc)
        else:
            return _respond(profile, "partials/admin/_profile_details.html", toast=_("Changes saved."),
                            event="profile-changed")
    return _respond(profile, "partials/admin/_profile_details.html", status=422, details_form=form)


@bp.post("/ums/profiles/<int:profile_id>/invitation")
@login_required
def resend_invitation(profile_id: int):
    session = web.session()
    profile = profiles.get_for_admin(session, current_user, profile_id)
    profiles.resend_invitation(session, current_user, profile)
    return _respond(profile, "partials/admin/_invitation.html",
                    toast=_("A new invitation has gone to %(email)s.", email=profile.email_normalized))


@bp.route("/ums/profiles/<int:profile_id>/delete", methods=["GET", "POST"])
@login_required
def delete_profile(profile_id: int):
    session = web.session()
    profile = profiles.get_for_admin(session, current_user, profile_id)
    form = EmptyForm()
    if form.validate_on_submit():
        name = profile.full_name
        profiles.delete_profile(session, current_user, profile)
        flash(_("The UMS profile of %(name)s is deleted; its licence and numbers are free again.", name=name),
              "success")
        return htmx.redirect(url_for("admin.overview"))
    return render("admin/profile_delete.html", "partials/admin/_delete_confirm.html", profile=profile,
                  rows=numbers.service_rows(session, profile), form=form)


# --- e-mail change by code -----------------------------------------------------------------------------

EMAIL_PARTIAL = "partials/admin/_email_change.html"


@bp.post("/ums/profiles/<int:profile_id>/email/code")
@login_required
def request_email_code(profile_id: int):
    session = web.session()
    profile = profiles.get_for_admin(session, current_user, profile_id)
    try:
        email_change.request_code(session, current_user, profile)
    except ValidationFailed as exc:
        return _respond(profile, EMAIL_PARTIAL, status=422, request_error=str(exc.message))
    return _respond(profile, EMAIL_PARTIAL, focus="code",
                    toast=_("A code has gone to %(email)s.", email=profile.email_normalized))


@bp.post("/ums/profiles/<int:profile_id>/email/verify")
@login_required
def verify_email_code(profile_id: int):
    session = web.session()
    profile = profiles.get_for_admin(session, current_user, profile_id)
    form = CodeForm()
    if form.validate_on_submit():
        try:
            email_change.verify_code(session, current_user, profile, form.code.data)
        except ValidationFailed as exc:
            _attach(form, exc)
        else:
            return _respond(profile, EMAIL_PARTIAL, focus="email",
                            toast=_("Code accepted. Enter the new e-mail address."))
    return _respond(profile, EMAIL_PARTIAL, status=422, code_form=form)


@bp.post("/ums/profiles/<int:profile_id>/email")
@login_required
def change_email(profile_id: int):
    session = web.session()
    profile = profiles.get_for_admin(session, current_user, profile_id)
    form = NewEmailForm()
    if form.validate_on_submit():
        try:
            new = email_change.change_email(session, current_user, profile, form.email.data)
        except FIELD_ERRORS as exc:
            _attach(form, exc)
        else:
            return _respond(profile, EMAIL_PARTIAL,
                            toast=_("The e-mail address is now %(email)s; the login follows it.", email=new))
    return _respond(profile, EMAIL_PARTIAL, status=422, email_form=form)


@bp.post("/ums/profiles/<int:profile_id>/email/cancel")
@login_required
def cancel_email_change(profile_id: int):
    session = web.session()
    profile = profiles.get_for_admin(session, current_user, profile_id)
    email_change.cancel(session, current_user, profile)
    return _respond(profile, EMAIL_PARTIAL, toast=_("E-mail change cancelled."))


# --- numbers -------------------------------------------------------------------------------------------

SERVICES_PARTIAL = "partials/admin/_services.html"


@bp.post("/ums/profiles/<int:profile_id>/services/<service>")
@login_required
def assign_number(profile_id: int, service: str):
    session = web.session()
    profile = profiles.get_for_admin(session, current_user, profile_id)
    svc = numbers.parse_service(service)
    form = AssignNumberForm()
    if form.validate_on_submit():
        try:
            assignment = numbers.assign_number(session, current_user, profile, svc, form.number_id.data)
        except FIELD_ERRORS as exc:
            status = 409 if isinstance(exc, NumberTaken) else 422
            return _respond(profile, SERVICES_PARTIAL, status=status, assign_errors={svc: str(exc.message)})
        return _respond(profile, SERVICES_PARTIAL, event="numbers-changed", toast=_(
            "%(service)s now answers on %(number)s.", service=numbers.SERVICE_LABELS[svc],
            number=phone.display(assignment.number)))
    return _respond(profile, SERVICES_PARTIAL, status=422,
                    assign_errors={svc: " ".join(str(e) for e in form.number_id.errors)})


@bp.post("/ums/profiles/<int:profile_id>/services/<service>/release")
@login_required
def release_number(profile_id: int, service: str):
    session = web.session()
    profile = profiles.get_for_admin(session, current_user, profile_id)
    svc = numbers.parse_service(service)
    released = numbers.release_number(session, current_user, profile, svc)
    if released is not None and not wants_partial():
        # without JavaScript the page after the redirect offers the undo
        return htmx.redirect(url_for("admin.edit_profile", profile_id=profile.id, released=svc.value,
                                     number=released.id))
    # The region offers „Undo“ (assigning the same number again, if still free) and takes the focus.
    return _respond(profile, SERVICES_PARTIAL, event="numbers-changed", focus=f"undo-{svc.value}",
                    released=(svc, released) if released is not None else None, toast=_(
                        "The number of %(service)s is released; its data is kept.",
                        service=numbers.SERVICE_LABELS[svc]))


@bp.get("/ums/profiles/<int:profile_id>/services")
@login_required
def services(profile_id: int):
    """The „Services and numbers“ region (reloaded when the site changes)."""
    profile = profiles.get_for_admin(web.session(), current_user, profile_id)
    return render("admin/profile_edit.html", SERVICES_PARTIAL, **_edit_context(profile))


@bp.get("/ums/profiles/<int:profile_id>/services/<service>/numbers")
@login_required
def free_numbers(profile_id: int, service: str):
    """The searchable list of free numbers of the profile's site (htmx region)."""
    session = web.session()
    profile = profiles.get_for_admin(session, current_user, profile_id)
    svc = numbers.parse_service(service)
    query = request.args.get("nq", "")[:30]
    return render("admin/profile_edit.html", "partials/admin/_number_select.html",
                  **_edit_context(profile, svc=svc, free=numbers.free_numbers(session, profile, query),
                                  number_query=query, search_service=svc.value, announce=wants_partial()))


# --- audit trail -----------------------------------------------------------------------------------------

def _audit_filter() -> audit_trail.AuditFilter:
    return audit_trail.AuditFilter(customer_id=_int_arg("customer"), action=request.args.get("action", ""),
                                   q=request.args.get("q", "")[:100], profile_id=_int_arg("profile"),
                                   page=_int_arg("page") or 1)


@bp.get("/ums/audit.csv")
@login_required
def export_audit():
    """The audit trail with its filters, every page, as CSV."""
    _require_admin_area()
    rows = audit_trail.csv_rows(web.session(), current_user, _audit_filter())
    return csv_response(audit_trail.csv_header(), rows, "ums-protokoll")


@bp.get("/ums/audit")
@login_required
def audit():
    _require_admin_area()
    flt = _audit_filter()
    view = audit_trail.entries(web.session(), current_user, flt)
    return render("admin/audit.html", "partials/admin/_audit_list.html", view=view,
                  actions=audit_trail.ACTION_LABELS, describe=view.describe)
