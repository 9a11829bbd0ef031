"""Anrufbeantworter pages of one profile: messages, greetings, settings; plus the signed listen link.

Every route: load the profile and check it may be used (``web.profile_for_use``) → one service
call → a page, a partial for htmx, or a 303 back to the page for plain forms.
"""

from __future__ import annotations

from flask import flash, request, url_for
from flask_babel import format_date, get_timezone, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from ... import fragments, web
from ...db import writes
from ...htmx import redirect, render, wants_partial
from ...models import GreetingKind, GreetingSource, VoicemailMode
from ...services import storage
from ...services import voicemail as vm
from ...services.errors import DomainError, NotFound, ValidationFailed
from . import bp
from .forms import (
    AbsencePeriodForm,
    GreetingUploadForm,
    MessageFilterForm,
    MessageIdsForm,
    PinForm,
    SettingsForm,
)

BASE = "/profiles/<int:profile_id>/voicemail"


# --- helpers ---------------------------------------------------------------------------------


def _query(formdata) -> tuple[MessageFilterForm, vm.MessageQuery]:
    form = MessageFilterForm(formdata=formdata, meta={"csrf": False})
    form.validate()
    query = vm.MessageQuery(
        only_new=form.show.data == "new",
        caller=(form.caller.data or "").strip() if not form.caller.errors else "",
        day=form.day.data if not form.day.errors else None,
        since=form.since.data if not form.since.errors else None,
        until=form.until.data if not (form.until.errors or form.since.errors) else None,
        page=form.page.data if isinstance(form.page.data, int) and not form.page.errors else 1,
    )
    return form, query


def query_args(query: vm.MessageQuery, **overrides) -> dict:
    """URL parameters of a list state (links, redirects and hidden fields share them)."""
    args = {"show": "new" if query.only_new else "all", "caller": query.caller,
            "day": query.day.isoformat() if query.day else "",
            "since": query.since.isoformat() if query.since else "",
            "until": query.until.isoformat() if query.until else "", "page": query.page}
    args.update(overrides)
    return {k: v for k, v in args.items() if v not in ("", None) and not (k == "show" and v == "all")
            and not (k == "page" and v == 1)}


def _ids() -> list[int]:
    ids = []
    for raw in request.form.getlist("ids"):
        for part in raw.split(","):
            if part.strip().isdigit() and vm.valid_id(int(part)):
                ids.append(int(part))
    return ids


def _list(profile, formdata, *, status=200, trigger=None, undo_ids=None, error=None):
    form, query = _query(formdata)
    page = vm.list_messages(web.session(), profile, query, tz=get_timezone())
    return render("voicemail/index.html", "partials/voicemail/_messages.html", status=status, trigger=trigger,
                  profile=profile, page=page, filter_form=form, number=_number(profile),
                  undo_ids=undo_ids or [], query_args=query_args, oob=wants_partial(),
                  settings=vm.settings_of(web.session(), profile), error=error,
                  **_badge(profile, page.new_count))


def _refused(profile, exc: DomainError):
    """A refused list action: the list again with the reason in it (not the list replaced by an
    error box), also when the action targeted a single row; 303 back with a flash without htmx."""
    if not wants_partial():
        flash(str(exc.message), "error")
        return _back_to_list(profile)
    response = _list(profile, request.form, status=exc.status, trigger={"toast": str(exc.message)},
                     error=exc.message)
    response.headers["HX-Retarget"] = "#vm-messages"
    response.headers["HX-Reswap"] = "outerHTML"
    return response


def _back_to_list(profile, undo_ids=None):
    _form, query = _query(request.form)
    args = query_args(query)
    if undo_ids:
        args["undo"] = ",".join(map(str, undo_ids))
    return redirect(url_for("voicemail.index", profile_id=profile.id, **args))


def _audio_response(key: str, mime: str, download_name: str, *, attachment: bool = False):
    try:
        response = storage.serve(key, mime, download_name=download_name, as_attachment=attachment, max_age=300)
    except storage.StorageError as exc:
        raise NotFound(_l("The audio of this item is missing.")) from exc
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


def _badge(profile, new_count: int) -> dict:
    """The navigation badge counts the signed-in user's own profile: reuse the count when it is this one."""
    return {"vm_badge_count": new_count} if profile.user_id == current_user.id else {}


def _number(profile):
    """The voicemail's number as the heading shows it (``|phone`` sets off the extension)."""
    found = vm.assignment(web.session(), profile)
    return found.number if found else None


def _toast(text) -> dict:
    return {"toast": str(text), "voicemail-changed": True}


# --- messages --------------------------------------------------------------------------------


@bp.get(BASE)
@login_required
@web.loads_profile(*vm.LIST_LOAD)
def index(profile_id: int):
    profile = web.profile_for_use(profile_id, *vm.LIST_LOAD)
    undo = [int(p) for p in request.args.get("undo", "").split(",") if p.isdigit()]
    return fragments.cached(None if undo else _shown(profile), lambda: _list(profile, request.args, undo_ids=undo))


def _shown(profile) -> tuple | None:
    """What the list fragment shows of the profile beyond its URL (the fragment cache's key):
    the box's version and the settings its notices name; None while the box has no version."""
    box = profile.voicemail_box
    if box is None:
        return None
    settings = vm.settings_of(web.session(), profile)
    return box.version, settings.enabled, settings.mode


@bp.get(BASE + "/messages.csv")
@login_required
def export_messages(profile_id: int):
    """The message list with its filters (every page) as CSV for Excel, streamed."""
    from ..downloads import csv_response

    profile = web.profile_for_use(profile_id)
    _form, query = _query(request.args)
    return csv_response(vm.csv_header(), vm.csv_rows(web.session(), profile, query, tz=get_timezone()),
                        "anrufbeantworter")


@bp.get(BASE + "/messages/<int:message_id>/audio")
@login_required
@writes  # the browser copy's key, an administrator's access in the audit trail
def message_audio(profile_id: int, message_id: int):
    profile = web.profile_for_use(profile_id)
    message = vm.message_of(web.session(), profile, message_id)
    vm.record_access(web.session(), current_user, profile, message, download=False)
    key, mime = vm.playback(web.session(), message)
    return _audio_response(key, mime, f"nachricht-{message.id}.{key.rsplit('.', 1)[-1]}")


@bp.get(BASE + "/messages/<int:message_id>/download")
@login_required
@writes  # an administrator's download in the audit trail
def message_download(profile_id: int, message_id: int):
    profile = web.profile_for_use(profile_id)
    message = vm.message_of(web.session(), profile, message_id)
    vm.record_access(web.session(), current_user, profile, message, download=True)
    stamp = vm.local_time(message.received_at).strftime("%Y-%m-%d_%H-%M")
    vm.ensure_audio(message.audio_key)
    return _audio_response(message.audio_key, "audio/wav", f"anrufbeantworter_{stamp}.wav", attachment=True)


def _mark(profile_id: int, message_id: int, heard: bool):
    profile = web.profile_for_use(profile_id)
    try:
        message = vm.message_of(web.session(), profile, message_id)
        vm.mark(web.session(), current_user, profile, [message.id], heard=heard)
    except DomainError as exc:
        return _refused(profile, exc)
    if not wants_partial():
        return _back_to_list(profile)
    _form, query = _query(request.form)
    count = vm.new_count(web.session(), profile.id)
    text = _l("Marked as heard.") if heard else _l("Marked as new.")
    return render("voicemail/index.html", "partials/voicemail/_message_row_oob.html", trigger=_toast(text),
                  profile=profile, m=message, query=query, new_count=count, oob=True, **_badge(profile, count))


@bp.post(BASE + "/messages/<int:message_id>/heard")
@login_required
def mark_heard(profile_id: int, message_id: int):
    return _mark(profile_id, message_id, True)


@bp.post(BASE + "/messages/<int:message_id>/new")
@login_required
def mark_new(profile_id: int, message_id: int):
    return _mark(profile_id, message_id, False)


@bp.post(BASE + "/messages/<int:message_id>/delete")
@login_required
def delete_message(profile_id: int, message_id: int):
    profile = web.profile_for_use(profile_id)
    try:
        ids = vm.delete_messages(web.session(), current_user, profile, [message_id])
    except DomainError as exc:
        return _refused(profile, exc)
    if not wants_partial():
        return _back_to_list(profile, ids)
    return _list(profile, request.form, trigger=_toast(_l("Message deleted.")), undo_ids=ids)


@bp.post(BASE + "/messages/bulk")
@login_required
def bulk_messages(profile_id: int):
    profile = web.profile_for_use(profile_id)
    action = MessageIdsForm().action.data
    undo = None
    try:
        if action == "delete":
            undo = vm.delete_messages(web.session(), current_user, profile, _ids())
            text = ngettext("%(num)d message deleted.", "%(num)d messages deleted.", len(undo))
        elif action in ("heard", "new"):
            count = vm.mark(web.session(), current_user, profile, _ids(), heard=action == "heard")
            text = ngettext("%(num)d message marked as heard.", "%(num)d messages marked as heard.", count) \
                if action == "heard" else ngettext("%(num)d message marked as new.", "%(num)d messages marked as new.", count)
        else:
            raise ValidationFailed(_l("Choose what to do with the selected messages."))
    except DomainError as exc:
        return _refused(profile, exc)
    if not wants_partial():
        flash(str(text), "success")
        return _back_to_list(profile, undo)
    return _list(profile, request.form, trigger=_toast(text), undo_ids=undo)


@bp.post(BASE + "/messages/restore")
@login_required
def restore_messages(profile_id: int):
    profile = web.profile_for_use(profile_id)
    try:
        count = vm.restore_messages(web.session(), current_user, profile, _ids())
    except DomainError as exc:
        return _refused(profile, exc)
    text = ngettext("%(num)d message restored.", "%(num)d messages restored.", count)
    if not wants_partial():
        flash(str(text), "success")
        return _back_to_list(profile)
    return _list(profile, request.form, trigger=_toast(text))


# --- settings and PIN ------------------------------------------------------------------------


def _settings_form(profile, formdata=None) -> SettingsForm:
    s = vm.settings_of(web.session(), profile)
    if formdata is not None:  # the stored seconds stay when the form answers at once
        return SettingsForm(formdata=formdata, answer_after_seconds=s.answer_after_seconds)
    return SettingsForm(
        formdata=None, enabled=s.enabled, answer="immediately" if s.answer_immediately else "after",
        answer_after_seconds=s.answer_after_seconds, mode=s.mode.value,
        max_message_seconds=s.max_message_seconds, notify_email=s.notify_email,
        notify_target="other" if s.notify_address else "profile", notify_address=s.notify_address or "",
        attach_audio=s.attach_audio, delete_after_send=s.delete_after_send,
    )


def _settings_page(profile, form, pin_form, *, status=200, trigger=None, partial="partials/voicemail/_settings.html"):
    settings = vm.settings_of(web.session(), profile)
    return render("voicemail/settings.html", partial, status=status, trigger=trigger, profile=profile,
                  form=form, pin_form=pin_form, settings=settings, pin_locked=vm.pin_locked(settings),
                  number=_number(profile))


@bp.get(BASE + "/settings")
@login_required
def settings(profile_id: int):
    profile = web.profile_for_use(profile_id)
    return _settings_page(profile, _settings_form(profile), PinForm(formdata=None))


@bp.post(BASE + "/settings")
@login_required
def save_settings(profile_id: int):
    profile = web.profile_for_use(profile_id)
    form = _settings_form(profile, request.form)
    if not form.validate():
        return _settings_page(profile, form, PinForm(formdata=None), status=422)
    vm.update_settings(web.session(), current_user, profile, vm.SettingsInput(
        enabled=form.enabled.data, answer_immediately=form.answer.data == "immediately",
        answer_after_seconds=form.answer_after_seconds.data, mode=VoicemailMode(form.mode.data),
        max_message_seconds=form.max_message_seconds.data, notify_email=form.notify_email.data,
        notify_address=(form.notify_address.data or "").strip() or None if form.notify_target.data == "other" else None,
        attach_audio=form.attach_audio.data, delete_after_send=form.delete_after_send.data,
    ))
    if not wants_partial():
        flash(str(_l("Settings saved.")), "success")
        return redirect(url_for("voicemail.settings", profile_id=profile.id))
    return _settings_page(profile, _settings_form(profile), PinForm(formdata=None),
                          trigger=_toast(_l("Settings saved.")))


@bp.post(BASE + "/pin")
@login_required
def set_pin(profile_id: int):
    profile = web.profile_for_use(profile_id)
    form = PinForm(number=vm.number_of(web.session(), profile))
    if not form.validate():
        return _settings_page(profile, _settings_form(profile), form, status=422,
                              partial="partials/voicemail/_pin.html")
    vm.set_pin(web.session(), current_user, profile, form.pin.data)
    if not wants_partial():
        flash(str(_l("PIN saved.")), "success")
        return redirect(url_for("voicemail.settings", profile_id=profile.id))
    return _settings_page(profile, _settings_form(profile), PinForm(formdata=None),
                          trigger=_toast(_l("PIN saved.")), partial="partials/voicemail/_pin.html")


# --- greetings -------------------------------------------------------------------------------


def _kind(value: str) -> GreetingKind:
    try:
        return GreetingKind(value)
    except ValueError as exc:
        raise NotFound(_l("This greeting does not exist or has been replaced.")) from exc


def _greetings_page(profile, *, kind=None, form=None, period_form=None, status=200, trigger=None):
    """The whole greetings page, or for htmx the card of ``kind``."""
    slots = vm.greeting_slots(web.session(), profile)
    forms = {slot.kind: GreetingUploadForm(formdata=None) for slot in slots}
    if kind is not None and form is not None:
        forms[kind] = form
    active_absence = next(s.active for s in slots if s.kind == GreetingKind.ABSENCE)
    period = period_form or AbsencePeriodForm(
        formdata=None, absence_from=active_absence.absence_from if active_absence else None,
        absence_until=active_absence.absence_until if active_absence else None)
    ctx = dict(profile=profile, slots=slots, forms=forms, period_form=period,
               number=_number(profile), tts_available=vm.tts.available(),
               source_labels=vm.SOURCE_LABELS, accept=vm.audio.ACCEPT_ATTRIBUTE, format_date=format_date)
    if kind is not None:
        ctx["slot"] = next(s for s in slots if s.kind == kind)
        return render("voicemail/greetings.html", "partials/voicemail/_greeting.html", status=status,
                      trigger=trigger, **ctx)
    return render("voicemail/greetings.html", "partials/voicemail/_greetings.html", status=status,
                  trigger=trigger, **ctx)


def _greeting_done(profile, kind, text):
    if not wants_partial():
        flash(str(text), "success")
        return redirect(url_for("voicemail.greetings", profile_id=profile.id, _anchor=f"greeting-{kind.value}"))
    return _greetings_page(profile, kind=kind, trigger=_toast(text))


@bp.get(BASE + "/greetings")
@login_required
def greetings(profile_id: int):
    profile = web.profile_for_use(profile_id)
    return _greetings_page(profile)


@bp.post(BASE + "/greetings/<kind>")
@login_required
def upload_greeting(profile_id: int, kind: str):
    profile = web.profile_for_use(profile_id)
    greeting_kind = _kind(kind)
    form = GreetingUploadForm()
    source_value = form.source.data if form.source.data in {s.value for s in GreetingSource} else "upload"
    source = GreetingSource(source_value)
    form.source.data = source_value  # the error shows on the form that was sent
    if form.validate():
        upload = request.files.get("file")
        chosen = upload is not None and bool(upload.filename)
        try:
            vm.create_draft(
                web.session(), current_user, profile, greeting_kind, source,
                data=upload.read() if chosen else None,
                filename=upload.filename if chosen else None, text=form.text.data,
                absence_from=form.absence_from.data, absence_until=form.absence_until.data,
            )
        except (ValidationFailed, vm.tts.SpeechUnavailable, storage.StorageUnavailable) as exc:
            target = getattr(form, exc.field or ("text" if source == GreetingSource.TTS else "file"), form.file)
            target.errors = [*target.errors, str(exc.message)]
        else:
            return _greeting_done(profile, greeting_kind, _l("Listen to the preview, then activate it."))
    return _greetings_page(profile, kind=greeting_kind, form=form, status=422)


@bp.post(BASE + "/greetings/<int:greeting_id>/activate")
@login_required
def activate_greeting(profile_id: int, greeting_id: int):
    profile = web.profile_for_use(profile_id)
    greeting = vm.activate_greeting(web.session(), current_user, profile, greeting_id)
    return _greeting_done(profile, greeting.kind, _l("The new greeting is active."))


@bp.post(BASE + "/greetings/<int:greeting_id>/discard")
@login_required
def discard_greeting(profile_id: int, greeting_id: int):
    profile = web.profile_for_use(profile_id)
    kind = vm.discard_draft(web.session(), current_user, profile, greeting_id)
    return _greeting_done(profile, kind, _l("The preview was discarded."))


@bp.post(BASE + "/greetings/<kind>/standard")
@login_required
def use_standard_greeting(profile_id: int, kind: str):
    profile = web.profile_for_use(profile_id)
    greeting_kind = _kind(kind)
    vm.use_standard(web.session(), current_user, profile, greeting_kind)
    text = _l("Absence greeting switched off.") if greeting_kind == GreetingKind.ABSENCE else _l(
        "The standard greeting is active.")
    return _greeting_done(profile, greeting_kind, text)


@bp.post(BASE + "/greetings/absence/period")
@login_required
def absence_period(profile_id: int):
    profile = web.profile_for_use(profile_id)
    form = AbsencePeriodForm()
    if form.validate():
        try:
            vm.set_absence_period(web.session(), current_user, profile, form.absence_from.data,
                                  form.absence_until.data)
        except ValidationFailed as exc:
            getattr(form, exc.field or "absence_from").errors = [str(exc.message)]
        else:
            return _greeting_done(profile, GreetingKind.ABSENCE, _l("Absence period saved."))
    # Also as a toast: without an active absence greeting (switched off in another tab) the card
    # has no period fields to show the reason next to.
    reason = next((str(error) for field in form for error in field.errors), "")
    if reason and not wants_partial():
        flash(reason, "error")
    return _greetings_page(profile, kind=GreetingKind.ABSENCE, period_form=form, status=422,
                           trigger={"toast": reason} if reason else None)


@bp.get(BASE + "/greetings/<int:greeting_id>/audio")
@login_required
@writes  # the browser copy's key
def greeting_audio(profile_id: int, greeting_id: int):
    profile = web.profile_for_use(profile_id)
    greeting = vm.greeting_of(web.session(), profile, greeting_id)
    key, mime = vm.playback(web.session(), greeting)
    return _audio_response(key, mime, f"ansage-{greeting.id}.{key.rsplit('.', 1)[-1]}")


# --- signed listen link from the notification mail --------------------------------------------


@bp.get("/voicemail/listen/<token>")
def listen(token: str):
    message = vm.message_for_token(web.session(), token)
    return render("voicemail/listen.html", "partials/voicemail/_listen.html", message=message, token=token,
                  duration=vm.duration_text(message.duration_ms))


@bp.get("/voicemail/listen/<token>/audio")
@writes  # the browser copy's key
def listen_audio(token: str):
    message = vm.message_for_token(web.session(), token)
    key, mime = vm.playback(web.session(), message)
    return _audio_response(key, mime, f"nachricht-{message.id}.{key.rsplit('.', 1)[-1]}")
