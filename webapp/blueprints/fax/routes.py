"""Fax pages of one profile: received faxes with their pages, sending with an exact preview and
live status, settings.

Every route: load the profile and check it may be used (``web.profile_for_use``) → one service
call → a page, a partial for htmx, or a 303 back to the page for plain forms. Page images are
rendered by jobs; pages that wait for them poll and are told to stop with status 286.
"""

from __future__ import annotations

from datetime import UTC

from flask import Response, flash, request, url_for
from flask_babel import get_timezone, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from ... import fragments, web
from ...db import writes
from ...htmx import redirect, render, wants_partial
from ...models import FaxResolution, PreviewStatus
from ...services import fax as fx
from ...services import inbox, storage
from ...services.errors import DomainError, NotFound, ValidationFailed
from ...services.fax import received as rx
from ...services.fax import sending as tx
from . import bp
from .forms import IdsForm, ReceivedFilterForm, SendForm, SentFilterForm, SettingsForm, UploadForm

BASE = "/profiles/<int:profile_id>/fax"
STOP_POLLING = 286  # htmx stops an "every" trigger on this status


# --- helpers ---------------------------------------------------------------------------------


def _received_query(formdata) -> tuple[ReceivedFilterForm, rx.ReceivedQuery]:
    form = ReceivedFilterForm(formdata=formdata, meta={"csrf": False})
    form.validate()
    bad_period = bool(form.day_until.errors)
    return form, rx.ReceivedQuery(
        only_new=form.show.data == "new",
        sender=(form.sender.data or "").strip() if not form.sender.errors else "",
        day_from=form.day_from.data if not form.day_from.errors and not bad_period else None,
        day_until=form.day_until.data if not bad_period else None,
        page=form.page.data if isinstance(form.page.data, int) and not form.page.errors else 1,
    )


def received_args(query: rx.ReceivedQuery, **overrides) -> dict:
    args = {"show": "new" if query.only_new else "", "sender": query.sender,
            "day_from": query.day_from.isoformat() if query.day_from else "",
            "day_until": query.day_until.isoformat() if query.day_until else "", "page": query.page}
    args.update(overrides)
    return {k: v for k, v in args.items() if v not in ("", None) and not (k == "page" and v == 1)}


def _sent_query(formdata) -> tuple[SentFilterForm, tx.SentQuery]:
    form = SentFilterForm(formdata=formdata, meta={"csrf": False})
    form.validate()
    return form, tx.SentQuery(
        destination=(form.destination.data or "").strip() if not form.destination.errors else "",
        day_from=form.day_from.data if not form.day_from.errors else None,
        day_until=form.day_until.data if not form.day_until.errors else None,
        page=form.page.data if isinstance(form.page.data, int) and not form.page.errors else 1,
    )


def sent_args(query: tx.SentQuery, **overrides) -> dict:
    args = {"destination": query.destination, "day_from": query.day_from.isoformat() if query.day_from else "",
            "day_until": query.day_until.isoformat() if query.day_until else "", "page": query.page}
    args.update(overrides)
    return {k: v for k, v in args.items() if v not in ("", None) and not (k == "page" and v == 1)}


def _ids() -> list[int]:
    ids = []
    for raw in request.form.getlist("ids"):
        for part in raw.split(","):
            if part.strip().isdigit() and inbox.valid_id(int(part)):
                ids.append(int(part))
    return ids


def _badge(profile, new_count: int) -> dict:
    return {"fax_badge_count": new_count} if profile.user_id == current_user.id else {}


def _received_list(profile, formdata, *, status=200, trigger=None, undo_ids=None, error=None):
    form, query = _received_query(formdata)
    page = rx.list_received(web.session(), profile, query, tz=get_timezone())
    return render("fax/index.html", "partials/fax/_received.html", status=status, trigger=trigger,
                  profile=profile, page=page, filter_form=form, number=fx.settings.number_row(web.session(), profile),
                  undo_ids=undo_ids or [], received_args=received_args, oob=wants_partial(), error=error,
                  **_badge(profile, page.new_count))


def _refused(profile, exc: DomainError):
    if not wants_partial():
        flash(str(exc.message), "error")
        return redirect(url_for("fax.index", profile_id=profile.id, **received_args(_received_query(request.form)[1])))
    response = _received_list(profile, request.form, status=exc.status, trigger={"toast": str(exc.message)},
                              error=exc.message)
    response.headers["HX-Retarget"] = "#fax-received"
    response.headers["HX-Reswap"] = "outerHTML"
    return response


def _file(key: str, mimetype: str, download_name: str | None = None, *, cache: int = 300) -> Response:
    """A stored file (page image, PDF) for the browser, with Range support; missing files are a
    404, never a 500."""
    try:
        return storage.serve(key, mimetype, download_name=download_name, as_attachment=bool(download_name),
                             max_age=cache)
    except storage.StorageError as exc:
        raise NotFound(_l("This file is missing.")) from exc


# --- received --------------------------------------------------------------------------------


@bp.get(BASE)
@login_required
@web.loads_profile(*fx.LIST_LOAD)
def index(profile_id: int):
    profile = web.profile_for_use(profile_id, *fx.LIST_LOAD)
    undo = [int(p) for p in request.args.get("undo", "").split(",") if p.isdigit()][:50]
    return fragments.cached(None if undo else _shown(profile),
                            lambda: _received_list(profile, request.args, undo_ids=undo))


def _shown(profile) -> tuple | None:
    """What the list fragment shows of the profile beyond its URL (the fragment cache's key): its
    box's version alone; None while the box has no version."""
    return (profile.fax_box.version,) if profile.fax_box is not None else None


@bp.get(BASE + "/received/<int:fax_id>")
@login_required
@writes  # opening a fax marks it read
def show(profile_id: int, fax_id: int):
    """The in-page viewer of all pages; opening it marks the fax read."""
    profile = web.profile_for_use(profile_id)
    item = rx.received_of(web.session(), profile, fax_id)
    if item.read_at is None:
        rx.BOX.mark(web.session(), profile, [item.id], read=True)
    return render("fax/show.html", "partials/fax/_viewer.html", profile=profile, fax=item,
                  number=fx.settings.number_row(web.session(), profile))


@bp.get(BASE + "/received/<int:fax_id>/pages")
@login_required
def pages(profile_id: int, fax_id: int):
    """The viewer's page area; polled while the job renders, 286 once it is done."""
    profile = web.profile_for_use(profile_id)
    item = rx.received_of(web.session(), profile, fax_id)
    response = render("fax/show.html", "partials/fax/_pages.html", profile=profile, fax=item,
                      number=fx.settings.number_row(web.session(), profile))
    if wants_partial() and item.preview_status != PreviewStatus.PENDING:
        response.status_code = STOP_POLLING
    return response


@bp.get(BASE + "/received/<int:fax_id>/page-<int:number>.png")
@login_required
def page_image(profile_id: int, fax_id: int, number: int):
    profile = web.profile_for_use(profile_id)
    item = rx.received_of(web.session(), profile, fax_id)
    if not 1 <= number <= item.pages:
        raise NotFound(_l("This page does not exist."))
    return _file(rx.page_key(item, number), "image/png", cache=3600)


@bp.get(BASE + "/received/<int:fax_id>/thumb.png")
@login_required
def thumb(profile_id: int, fax_id: int):
    profile = web.profile_for_use(profile_id)
    item = rx.received_of(web.session(), profile, fax_id)
    return _file(rx.thumb_key(item), "image/png", cache=3600)


@bp.get(BASE + "/received/<int:fax_id>/fax.pdf")
@login_required
def download(profile_id: int, fax_id: int):
    profile = web.profile_for_use(profile_id)
    item = rx.received_of(web.session(), profile, fax_id)
    stamp = rx.local_time(item.received_at).strftime("%Y-%m-%d_%H-%M")
    return _file(item.pdf_key, "application/pdf", f"fax_{stamp}.pdf")


def _mark(profile_id: int, fax_id: int, read: bool):
    profile = web.profile_for_use(profile_id)
    try:
        item = rx.received_of(web.session(), profile, fax_id)
        rx.BOX.mark(web.session(), profile, [item.id], read=read)
    except DomainError as exc:
        return _refused(profile, exc)
    if not wants_partial():
        return redirect(url_for("fax.index", profile_id=profile.id))
    text = _l("Marked as read.") if read else _l("Marked as unread.")
    return _received_list(profile, request.form, trigger={"toast": str(text)})


@bp.post(BASE + "/received/<int:fax_id>/read")
@login_required
def mark_read(profile_id: int, fax_id: int):
    return _mark(profile_id, fax_id, True)


@bp.post(BASE + "/received/<int:fax_id>/unread")
@login_required
def mark_unread(profile_id: int, fax_id: int):
    return _mark(profile_id, fax_id, False)


@bp.post(BASE + "/received/<int:fax_id>/delete")
@login_required
def delete(profile_id: int, fax_id: int):
    profile = web.profile_for_use(profile_id)
    try:
        ids = rx.BOX.delete(web.session(), current_user, profile, [fax_id])
    except DomainError as exc:
        return _refused(profile, exc)
    if not wants_partial():
        return redirect(url_for("fax.index", profile_id=profile.id, undo=",".join(map(str, ids))))
    return _received_list(profile, request.form, trigger={"toast": str(_l("Fax deleted."))}, undo_ids=ids)


@bp.post(BASE + "/received/bulk")
@login_required
def bulk(profile_id: int):
    profile = web.profile_for_use(profile_id)
    action = IdsForm().action.data or request.form.get("action")
    undo = None
    try:
        if action == "delete":
            undo = rx.BOX.delete(web.session(), current_user, profile, _ids())
            text = ngettext("%(num)d fax deleted.", "%(num)d faxes deleted.", len(undo))
        elif action in ("read", "unread"):
            count = rx.BOX.mark(web.session(), profile, _ids(), read=action == "read")
            text = (ngettext("%(num)d fax marked as read.", "%(num)d faxes marked as read.", count)
                    if action == "read" else
                    ngettext("%(num)d fax marked as unread.", "%(num)d faxes marked as unread.", count))
        else:
            raise ValidationFailed(_l("Choose what to do with the selected faxes."))
    except DomainError as exc:
        return _refused(profile, exc)
    if not wants_partial():
        flash(str(text), "success")
        return redirect(url_for("fax.index", profile_id=profile.id, **({"undo": ",".join(map(str, undo))} if undo else {})))
    return _received_list(profile, request.form, trigger={"toast": str(text)}, undo_ids=undo)


@bp.post(BASE + "/received/restore")
@login_required
def restore(profile_id: int):
    profile = web.profile_for_use(profile_id)
    try:
        count = rx.BOX.restore(web.session(), current_user, profile, _ids())
    except DomainError as exc:
        return _refused(profile, exc)
    text = ngettext("%(num)d fax restored.", "%(num)d faxes restored.", count)
    if not wants_partial():
        flash(str(text), "success")
        return redirect(url_for("fax.index", profile_id=profile.id))
    return _received_list(profile, request.form, trigger={"toast": str(text)})


# --- sent ------------------------------------------------------------------------------------


def _sent_list(profile, formdata, *, status=200, trigger=None, poll=False):
    form, query = _sent_query(formdata)
    page = tx.list_sent(web.session(), profile, query, tz=get_timezone())
    response = render("fax/sent.html", "partials/fax/_sent.html", status=status, trigger=trigger, profile=profile,
                      page=page, filter_form=form, sent_args=sent_args, labels=tx.STATUS_LABELS,
                      number=fx.settings.number_row(web.session(), profile))
    if poll and wants_partial() and not page.in_flight:
        response.status_code = STOP_POLLING
    return response


@bp.get(BASE + "/sent")
@login_required
def sent(profile_id: int):
    profile = web.profile_for_use(profile_id)
    return _sent_list(profile, request.args, poll=request.args.get("poll") == "1")


@bp.get(BASE + "/sent/<int:fax_id>")
@login_required
def sent_show(profile_id: int, fax_id: int):
    """The pages of a sent fax as they were transmitted, with its status."""
    profile = web.profile_for_use(profile_id)
    item = tx.fax_of(web.session(), profile, fax_id)
    return render("fax/sent_show.html", "partials/fax/_preview.html", profile=profile, fax=item,
                  labels=tx.STATUS_LABELS, number=fx.settings.number_row(web.session(), profile))


@bp.get(BASE + "/sent/<int:fax_id>/report.pdf")
@login_required
def report(profile_id: int, fax_id: int):
    profile = web.profile_for_use(profile_id)
    item = tx.fax_of(web.session(), profile, fax_id)
    if not item.report_key:
        raise NotFound(_l("There is no transmission report for this fax yet."))
    return _file(item.report_key, "application/pdf", f"sendebericht_{item.id}.pdf")


@bp.post(BASE + "/sent/<int:fax_id>/delete")
@login_required
def delete_sent(profile_id: int, fax_id: int):
    profile = web.profile_for_use(profile_id)
    item = tx.fax_of(web.session(), profile, fax_id)
    if item.in_flight:
        raise ValidationFailed(_l("A fax cannot be deleted while it is being sent."))
    tx.BOX.delete(web.session(), current_user, profile, [item.id])
    if not wants_partial():
        flash(str(_l("Fax deleted.")), "success")
        return redirect(url_for("fax.sent", profile_id=profile.id))
    return _sent_list(profile, request.form, trigger={"toast": str(_l("Fax deleted."))})


# --- sending ---------------------------------------------------------------------------------


def _send_form(fax) -> SendForm:
    if fax is None:
        return SendForm(formdata=None)
    return SendForm(
        formdata=None, destination=fax.destination_e164 and fx.sending.phone.display(fax.destination_e164) or "",
        resolution=fax.resolution.value, cover_enabled=fax.cover_enabled, cover_from=fax.cover_from or "",
        cover_to=fax.cover_to or "", cover_subject=fax.cover_subject or "", cover_note=fax.cover_note or "",
    )


def _compose(profile, fax, *, form=None, upload_error=None, status=200, trigger=None,
             partial="partials/fax/_compose.html"):
    return render("fax/send.html", partial, status=status, trigger=trigger, profile=profile,
                  fax=fax, form=form or _send_form(fax), upload_form=UploadForm(formdata=None),
                  upload_error=upload_error, accept=fx.documents.ACCEPT, labels=tx.RESOLUTION_LABELS,
                  number=fx.settings.number_row(web.session(), profile))


def _docs(profile, fax, *, upload_error=None, status=200, trigger=None):
    """Only the documents region (upload, order, preview) for htmx; the whole page otherwise."""
    return _compose(profile, fax, upload_error=upload_error, status=status, trigger=trigger,
                    partial="partials/fax/_docs.html")


@bp.get(BASE + "/send")
@login_required
def compose(profile_id: int):
    profile = web.profile_for_use(profile_id)
    return _compose(profile, tx.open_draft(web.session(), profile))


@bp.post(BASE + "/send/documents")
@login_required
def upload(profile_id: int):
    """Add an uploaded document to the open draft (made on the first upload)."""
    profile = web.profile_for_use(profile_id)
    form = UploadForm()
    draft = tx.open_draft(web.session(), profile)
    file = form.file.data
    data = file.read(fx.documents.MAX_FILE_BYTES + 1) if file else None
    try:
        if draft is None:
            draft = tx.new_draft(web.session(), current_user, profile)
        tx.add_document(web.session(), current_user, profile, draft, getattr(file, "filename", None), data)
    except DomainError as exc:  # refused, or the media storage is unavailable
        web.session().rollback()  # nothing stays: no draft, no file
        draft = tx.open_draft(web.session(), profile)
        return _docs(profile, draft, upload_error=exc.message, status=exc.status)
    web.session().commit()  # the preview job starts after this commit
    if not wants_partial():
        return redirect(url_for("fax.compose", profile_id=profile.id))
    return _docs(profile, draft, trigger={"toast": str(_l("Document added."))})


def _draft_action(profile_id: int, fax_id: int, fn):
    profile = web.profile_for_use(profile_id)
    draft = tx.draft_of(web.session(), profile, fax_id)
    fn(profile, draft)
    web.session().commit()
    if not wants_partial():
        return redirect(url_for("fax.compose", profile_id=profile.id))
    return _docs(profile, draft)


@bp.post(BASE + "/send/<int:fax_id>/documents/<int:document_id>/up")
@login_required
def move_up(profile_id: int, fax_id: int, document_id: int):
    return _draft_action(profile_id, fax_id, lambda p, d: tx.move_document(
        web.session(), current_user, p, d, document_id, -1))


@bp.post(BASE + "/send/<int:fax_id>/documents/<int:document_id>/down")
@login_required
def move_down(profile_id: int, fax_id: int, document_id: int):
    return _draft_action(profile_id, fax_id, lambda p, d: tx.move_document(
        web.session(), current_user, p, d, document_id, 1))


@bp.post(BASE + "/send/<int:fax_id>/documents/<int:document_id>/remove")
@login_required
def remove_document(profile_id: int, fax_id: int, document_id: int):
    return _draft_action(profile_id, fax_id, lambda p, d: tx.remove_document(
        web.session(), current_user, p, d, document_id))


@bp.get(BASE + "/send/<int:fax_id>/preview")
@login_required
def preview(profile_id: int, fax_id: int):
    """The preview area; polled while the job renders, 286 once it is done."""
    profile = web.profile_for_use(profile_id)
    item = tx.fax_of(web.session(), profile, fax_id)
    response = render("fax/send.html", "partials/fax/_preview.html", profile=profile, fax=item)
    if wants_partial() and item.preview_status != PreviewStatus.PENDING:
        response.status_code = STOP_POLLING
    return response


@bp.get(BASE + "/send/<int:fax_id>/preview/v<int:version>-<int:number>.png")
@login_required
def preview_image(profile_id: int, fax_id: int, version: int, number: int):
    profile = web.profile_for_use(profile_id)
    item = tx.fax_of(web.session(), profile, fax_id)
    if version != item.preview_version or not 1 <= number <= item.pages:
        raise NotFound(_l("This page does not exist."))
    return _file(tx.preview_key(item, number), "image/png", cache=3600)


def _draft_input(form: SendForm) -> tx.DraftInput:
    send_after = None
    if form.send_later.data and form.send_after.data:
        send_after = form.send_after.data.replace(tzinfo=get_timezone()).astimezone(UTC)
    return tx.DraftInput(
        destination=form.destination.data or "", resolution=FaxResolution(form.resolution.data)
        if form.resolution.data in {r.value for r in FaxResolution} else FaxResolution.FINE,
        cover_enabled=bool(form.cover_enabled.data), cover_from=form.cover_from.data or "",
        cover_to=form.cover_to.data or "", cover_subject=form.cover_subject.data or "",
        cover_note=form.cover_note.data or "", send_after=send_after,
    )


@bp.post(BASE + "/send")
@login_required
def save_or_send(profile_id: int):
    """The details of the open draft (made here when there is none yet): „Vorschau aktualisieren“
    saves them (a new preview if they change the pages), „Senden“ sends what the preview shows."""
    profile = web.profile_for_use(profile_id)
    draft = tx.open_draft(web.session(), profile)
    form = SendForm()
    sending_now = request.form.get("action") == "send"
    if not form.validate():
        return _compose(profile, draft, form=form, status=422)
    try:
        if draft is None:
            draft = tx.new_draft(web.session(), current_user, profile)
        tx.update_draft(web.session(), current_user, profile, draft, _draft_input(form), check_destination=sending_now)
        web.session().commit()  # the choices stay (and a changed preview is made) even if sending waits
        if sending_now:
            tx.send(web.session(), current_user, profile, draft)
    except ValidationFailed as exc:
        web.session().rollback()
        draft = tx.open_draft(web.session(), profile)
        if exc.field and exc.field in form:
            form[exc.field].errors = [exc.message]
            return _compose(profile, draft, form=form, status=422)
        return _compose(profile, draft, form=form, upload_error=exc.message, status=422)
    web.session().commit()
    if sending_now:
        flash(str(_l("The fax is being sent. Its status is shown here.")), "success")
        return redirect(url_for("fax.sent", profile_id=profile.id) + f"#fax-out-{draft.id}")
    return _compose(profile, draft, form=form, trigger={"toast": str(_l("Saved."))})


@bp.post(BASE + "/send/<int:fax_id>/discard")
@login_required
def discard(profile_id: int, fax_id: int):
    profile = web.profile_for_use(profile_id)
    draft = tx.draft_of(web.session(), profile, fax_id)
    tx.discard_draft(web.session(), current_user, profile, draft)
    flash(str(_l("The draft has been discarded.")), "success")
    return redirect(url_for("fax.compose", profile_id=profile.id))


# --- settings --------------------------------------------------------------------------------


@bp.route(BASE + "/settings", methods=["GET", "POST"])
@login_required
def settings(profile_id: int):
    profile = web.profile_for_use(profile_id)
    current = fx.settings_of(web.session(), profile)
    if request.method == "GET":
        form = SettingsForm(formdata=None, email_enabled=current.email_enabled,
                            email_addresses=", ".join((current.email_addresses or "").split(",")),
                            header_line=current.header_line or "", station_id=current.station_id or "")
        return render("fax/settings.html", "partials/fax/_settings.html", profile=profile, form=form)
    form = SettingsForm()
    if form.validate():
        try:
            fx.update_settings(web.session(), current_user, profile, fx.SettingsInput(
                email_enabled=bool(form.email_enabled.data), email_addresses=form.email_addresses.data or "",
                header_line=form.header_line.data or "", station_id=form.station_id.data or ""))
        except ValidationFailed as exc:
            form[exc.field].errors = [exc.message]
        else:
            if not wants_partial():
                flash(str(_l("Settings saved.")), "success")
                return redirect(url_for("fax.settings", profile_id=profile.id))
            return render("fax/settings.html", "partials/fax/_settings.html", profile=profile, form=form,
                          saved=True, trigger={"toast": str(_l("Settings saved."))})
    return render("fax/settings.html", "partials/fax/_settings.html", status=422, profile=profile, form=form)

