"""Konferenz pages of one profile: the room (dial-in, PINs, who is in it), meetings, settings,
the simulator (only with the Dev-Postfach).

Every route: load the profile and check it may be used (``web.profile_for_use``) → one service
call → a page, a partial for htmx, or a 303 back to the page for plain forms.
"""

from __future__ import annotations

from flask import abort, current_app, flash, make_response, request, url_for
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required

from ... import web
from ...db import writes
from ...htmx import redirect, render, wants_partial
from ...models import PinRole
from ...services import storage
from ...services.conference import live, meetings, recordings
from ...services.conference import room as rooms
from ...services.errors import DomainError, NotFound, ValidationFailed
from . import bp
from .forms import MeetingForm, PinForm, SettingsForm, SimulatorForm

BASE = "/profiles/<int:profile_id>/conference"


def _ctx(profile) -> dict:
    number = rooms.number_of(web.session(), profile)
    room = rooms.ensure_room(web.session(), current_user, profile)
    return {"profile": profile, "room": room, "dial": rooms.dial_in(number),
            "dev_simulator": bool(current_app.config.get("DEV_MAILBOX"))}


def _toast(text) -> dict:
    return {"toast": str(text)}


def _answer(profile, endpoint: str, text, page, *, category: str = "success", anchor: str | None = None):
    """A plain form: the message as a flash and 303 back to ``endpoint``; htmx: ``page()``, which
    renders the region with the message as a toast."""
    if not wants_partial():
        flash(str(text), category)
        return redirect(url_for(endpoint, profile_id=profile.id, _anchor=anchor))
    return page()


# --- room: dial-in, PINs ---------------------------------------------------------------------


def _pin_forms(role: PinRole | None = None, form=None) -> dict:
    forms = {r: PinForm(formdata=None, prefix=r.value) for r in PinRole}
    if role is not None and form is not None:
        forms[role] = form
    return forms


def _room_page(profile, *, status=200, trigger=None, pin_forms=None, error=None,
               partial="partials/conference/_room.html"):
    ctx = _ctx(profile)
    pins = rooms.clear_pins(web.session(), profile) if ctx["room"] else {}
    people = live.present(web.session(), profile) if ctx["room"] else []
    poll = live.poll_seconds(people)
    return render("conference/index.html", partial, status=status, trigger=trigger, pins=pins,
                  pin_forms=pin_forms or _pin_forms(), role_labels=rooms.ROLE_LABELS, people=people,
                  poll=poll, live_tag=live.state_tag(ctx["room"], people, poll), error=error, **ctx)


@bp.get(BASE)
@login_required
@writes  # the room is set up on the first visit to any of its pages
def index(profile_id: int):
    profile = web.profile_for_use(profile_id)
    return _room_page(profile)


def _role(value: str) -> PinRole:
    try:
        return PinRole(value)
    except ValueError as exc:
        raise NotFound(_l("This page does not exist or is no longer there.")) from exc


@bp.post(BASE + "/pins/<role>/regenerate")
@login_required
def regenerate_pin(profile_id: int, role: str):
    profile = web.profile_for_use(profile_id)
    pin_role = _role(role)
    rooms.regenerate_pin(web.session(), current_user, profile, pin_role)
    text = _l("New %(label)s generated. The old one no longer works.", label=rooms.ROLE_LABELS[pin_role])
    return _answer(profile, "conference.index", text, lambda: _room_page(profile, trigger=_toast(text)))


@bp.post(BASE + "/pins/<role>")
@login_required
def set_pin(profile_id: int, role: str):
    profile = web.profile_for_use(profile_id)
    pin_role = _role(role)
    number = rooms.number_of(web.session(), profile)
    form = PinForm(prefix=pin_role.value, number=number.e164 if number else None)
    if form.validate():
        try:
            rooms.set_pin(web.session(), current_user, profile, pin_role, form.pin.data)
        except ValidationFailed as exc:
            form.pin.errors = [str(exc.message)]
        else:
            text = _l("%(label)s saved.", label=rooms.ROLE_LABELS[pin_role])
            return _answer(profile, "conference.index", text,
                           lambda: _room_page(profile, trigger=_toast(text)))
    if not wants_partial():
        flash(" ".join(str(e) for f in form for e in f.errors), "error")
    return _room_page(profile, status=422, pin_forms=_pin_forms(role=pin_role, form=form))


# --- live: who is in the room, moderator actions --------------------------------------------


@bp.get(BASE + "/live")
@login_required
@writes  # the room is set up on the first visit to any of its pages
def live_list(profile_id: int):
    profile = web.profile_for_use(profile_id)
    if not wants_partial():
        return redirect(url_for("conference.index", profile_id=profile.id, _anchor="conf-live"))
    people = live.present(web.session(), profile)
    poll = live.poll_seconds(people)
    if poll and request.args.get("v") == live.state_tag(rooms.room_of(web.session(), profile), people, poll):
        response = make_response("", 204)  # nothing new: htmx keeps the region (and the focus)
        response.vary.add("HX-Request")
        return response
    response = _room_page(profile, partial="partials/conference/_live.html")
    if response.status_code == 200 and not people:
        response.status_code = 286  # htmx: stop polling, the room is empty
    return response


def _live_done(profile, text):
    return _answer(profile, "conference.index", text,
                   lambda: _room_page(profile, trigger=_toast(text), partial="partials/conference/_live.html"), anchor="conf-live")


def _live_refused(profile, exc: DomainError):
    if not wants_partial():
        flash(str(exc.message), "error")
        return redirect(url_for("conference.index", profile_id=profile.id, _anchor="conf-live"))
    response = _room_page(profile, status=exc.status, trigger=_toast(exc.message), error=exc.message,
                          partial="partials/conference/_live.html")
    response.headers["HX-Retarget"] = "#conf-live"
    return response


@bp.post(BASE + "/live/<int:participant_id>/<action>")
@login_required
def moderate(profile_id: int, participant_id: int, action: str):
    profile = web.profile_for_use(profile_id)
    session = web.session()
    try:
        if action in ("mute", "unmute"):
            person = live.set_muted(session, current_user, profile, participant_id, action == "mute")
            text = _l("%(who)s is muted.", who=live.display_name(person)) if action == "mute" else _l(
                "%(who)s can speak again.", who=live.display_name(person))
        elif action == "remove":
            person = live.remove(session, current_user, profile, participant_id)
            text = _l("%(who)s was removed from the room.", who=live.display_name(person))
        else:
            raise NotFound(_l("This page does not exist or is no longer there."))
    except DomainError as exc:
        return _live_refused(profile, exc)
    return _live_done(profile, text)


@bp.post(BASE + "/live/all/<action>")
@login_required
def moderate_all(profile_id: int, action: str):
    profile = web.profile_for_use(profile_id)
    session = web.session()
    try:
        if action in ("mute", "unmute"):
            count = live.set_all_muted(session, current_user, profile, action == "mute")
            text = ngettext("%(num)d participant muted.", "%(num)d participants muted.", count) \
                if action == "mute" else ngettext("%(num)d participant can speak again.",
                                                  "%(num)d participants can speak again.", count)
        elif action in ("lock", "unlock"):
            live.set_locked(session, current_user, profile, action == "lock")
            text = _l("The room is locked: nobody else can join.") if action == "lock" else _l(
                "The room is open again.")
        else:
            raise NotFound(_l("This page does not exist or is no longer there."))
    except DomainError as exc:
        return _live_refused(profile, exc)
    return _live_done(profile, text)


# --- settings --------------------------------------------------------------------------------


def _settings_form(room, formdata=None) -> SettingsForm:
    if formdata is not None:
        return SettingsForm(formdata=formdata)
    return SettingsForm(formdata=None, obj=room)


def _settings_page(profile, form, *, status=200, trigger=None):
    return render("conference/settings.html", "partials/conference/_settings.html", status=status,
                  trigger=trigger, form=form, **_ctx(profile))


@bp.get(BASE + "/settings")
@login_required
@writes  # the room is set up on the first visit to any of its pages
def settings(profile_id: int):
    profile = web.profile_for_use(profile_id)
    room = rooms.ensure_room(web.session(), current_user, profile)
    return _settings_page(profile, _settings_form(room) if room else None)


@bp.post(BASE + "/settings")
@login_required
def save_settings(profile_id: int):
    profile = web.profile_for_use(profile_id)
    room = rooms.require_room(web.session(), current_user, profile)
    form = _settings_form(room, request.form)
    if not form.validate():
        return _settings_page(profile, form, status=422)
    rooms.update_settings(web.session(), current_user, profile, rooms.SettingsInput(
        **{name: getattr(form, name).data for name in rooms.SettingsInput.__dataclass_fields__}))
    text = _l("Settings saved and sent to the telephone system.")
    return _answer(profile, "conference.settings", text,
                   lambda: _settings_page(profile, _settings_form(room), trigger=_toast(text)))


# --- meetings --------------------------------------------------------------------------------


def _meetings_page(profile, form=None, *, status=200, trigger=None, editing=None, error=None):
    session = web.session()
    page = request.args.get("page", 1, type=int) or 1
    return render("conference/meetings.html", "partials/conference/_meetings.html", status=status,
                  trigger=trigger, form=form or MeetingForm(formdata=None), editing=editing,
                  upcoming=meetings.upcoming(session, profile), past=meetings.past(session, profile, page),
                  now=meetings.utcnow(), error=error, **_ctx(profile))


def _meeting_input(form: MeetingForm) -> meetings.MeetingInput:
    return meetings.MeetingInput(title=form.title.data or "", start=form.start.data,
                                 duration_minutes=form.duration_minutes.data, agenda=form.agenda.data or "",
                                 invitees=form.invitees.data or "")


def _save_meeting(profile, form: MeetingForm, meeting=None):
    if form.validate():
        try:
            if meeting is None:
                saved = meetings.schedule(web.session(), current_user, profile, _meeting_input(form))
                text = ngettext("Meeting scheduled; %(num)d invitation sent.",
                                "Meeting scheduled; %(num)d invitations sent.", len(saved.invitees))
            else:
                saved = meetings.change(web.session(), current_user, profile, meeting, _meeting_input(form))
                text = ngettext("Meeting changed; %(num)d update sent.",
                                "Meeting changed; %(num)d updates sent.", len(saved.invitees))
        except ValidationFailed as exc:
            if exc.field is None:  # about the meeting as a whole, not one field
                return _meetings_page(profile, form, status=422, editing=meeting, error=exc.message)
            target = getattr(form, exc.field, form.title)
            target.errors = [*target.errors, str(exc.message)]
        else:
            return _answer(profile, "conference.meetings_index", text,
                           lambda: _meetings_page(profile, trigger=_toast(text)))
    return _meetings_page(profile, form, status=422, editing=meeting)


@bp.get(BASE + "/meetings")
@login_required
@writes  # the room is set up on the first visit to any of its pages
def meetings_index(profile_id: int):
    profile = web.profile_for_use(profile_id)
    return _meetings_page(profile)


@bp.post(BASE + "/meetings")
@login_required
def schedule_meeting(profile_id: int):
    profile = web.profile_for_use(profile_id)
    rooms.require_room(web.session(), current_user, profile)
    return _save_meeting(profile, MeetingForm())


@bp.get(BASE + "/meetings/<int:meeting_id>/edit")
@login_required
@writes  # the room is set up on the first visit to any of its pages
def edit_meeting(profile_id: int, meeting_id: int):
    profile = web.profile_for_use(profile_id)
    meeting = meetings.meeting_of(web.session(), profile, meeting_id)
    local = meeting.starts_at.astimezone(meetings.ZoneInfo(meetings.ZONE)).replace(tzinfo=None)
    form = MeetingForm(formdata=None, title=meeting.title, start=local, duration_minutes=meeting.duration_minutes,
                       agenda=meeting.agenda, invitees="\n".join(meeting.invitees))
    return _meetings_page(profile, form, editing=meeting)


@bp.post(BASE + "/meetings/<int:meeting_id>")
@login_required
def change_meeting(profile_id: int, meeting_id: int):
    profile = web.profile_for_use(profile_id)
    meeting = meetings.meeting_of(web.session(), profile, meeting_id)
    return _save_meeting(profile, MeetingForm(), meeting)


@bp.post(BASE + "/meetings/<int:meeting_id>/cancel")
@login_required
def cancel_meeting(profile_id: int, meeting_id: int):
    profile = web.profile_for_use(profile_id)
    meeting = meetings.meeting_of(web.session(), profile, meeting_id)
    try:
        meetings.cancel(web.session(), current_user, profile, meeting)
    except ValidationFailed as exc:
        return _answer(profile, "conference.meetings_index", exc.message,
                       lambda exc=exc: _meetings_page(profile, status=422, trigger=_toast(exc.message), error=exc.message), category="error")
    text = ngettext("Meeting cancelled; %(num)d cancellation sent.", "Meeting cancelled; %(num)d cancellations sent.",
                    len(meeting.invitees))
    return _answer(profile, "conference.meetings_index", text,
                   lambda: _meetings_page(profile, trigger=_toast(text)))


@bp.get(BASE + "/meetings/<int:meeting_id>/invitation.ics")
@login_required
def meeting_ics(profile_id: int, meeting_id: int):
    profile = web.profile_for_use(profile_id)
    meeting = meetings.meeting_of(web.session(), profile, meeting_id)
    method = "CANCEL" if meeting.cancelled_at else "REQUEST"
    response = make_response(meetings.calendar(web.session(), profile, meeting, method))
    response.headers["Content-Type"] = f"text/calendar; charset=utf-8; method={method}"
    response.headers["Content-Disposition"] = f'attachment; filename="{meetings.ics_name(meeting)}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- simulator (only with the Dev-Postfach) --------------------------------------------------


def _simulator_enabled() -> None:
    if not current_app.config.get("DEV_MAILBOX"):
        abort(404)


def _simulator_page(profile, form=None, *, status=200, trigger=None):
    people = live.present(web.session(), profile)
    return render("conference/simulator.html", "partials/conference/_simulator.html", status=status,
                  trigger=trigger, form=form or SimulatorForm(formdata=None), people=people, **_ctx(profile))


@bp.get(BASE + "/simulator")
@login_required
@writes  # the room is set up on the first visit to any of its pages
def simulator(profile_id: int):
    _simulator_enabled()
    profile = web.profile_for_use(profile_id)
    return _simulator_page(profile)


@bp.post(BASE + "/simulator/<action>")
@login_required
def simulate(profile_id: int, action: str):
    _simulator_enabled()
    profile = web.profile_for_use(profile_id)
    form = SimulatorForm()
    if action not in ("join", "talk", "quiet", "leave"):
        raise NotFound(_l("This page does not exist or is no longer there."))
    if not form.validate():
        return _simulator_page(profile, form, status=422)
    participant = request.form.get("participant", type=int)
    try:
        live.simulate(web.session(), profile, action, participant, name=(form.name.data or "").strip() or None,
                      moderator=form.moderator.data)
    except DomainError as exc:
        return _answer(profile, "conference.simulator", exc.message,
                       lambda exc=exc: _simulator_page(profile, status=exc.status, trigger=_toast(exc.message)), category="error")
    if not wants_partial():
        return redirect(url_for("conference.simulator", profile_id=profile.id))
    return _simulator_page(profile, trigger=_toast(_l("Done.")))


# --- recordings ------------------------------------------------------------------------------


def _recordings_page(profile, *, status=200, trigger=None, undo_ids=None):
    page = request.values.get("page", 1, type=int) or 1
    recordings.BOX.purge_deleted(web.session(), profile.id)
    return render("conference/recordings.html", "partials/conference/_recordings.html", status=status,
                  trigger=trigger, page=recordings.list_recordings(web.session(), profile, page),
                  undo_ids=undo_ids or [], duration=recordings.duration_text, **_ctx(profile))


@bp.get(BASE + "/recordings")
@login_required
@writes  # the room is set up on the first visit to any of its pages
def recordings_index(profile_id: int):
    profile = web.profile_for_use(profile_id)
    return _recordings_page(profile)


def _recording_file(profile_id: int, recording_id: int, *, attachment: bool):
    profile = web.profile_for_use(profile_id)
    recording = recordings.recording_of(web.session(), profile, recording_id)
    stamp = meetings.local_text(recording.started_at).replace(".", "-").replace(" ", "_").replace(":", "-")
    try:
        response = storage.serve(recording.audio_key, "audio/wav", download_name=f"konferenz_{stamp}.wav",
                                 as_attachment=attachment, max_age=300)
    except storage.StorageError as exc:
        raise NotFound(_l("The audio of this item is missing.")) from exc
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.get(BASE + "/recordings/<int:recording_id>/audio")
@login_required
def recording_audio(profile_id: int, recording_id: int):
    return _recording_file(profile_id, recording_id, attachment=False)


@bp.get(BASE + "/recordings/<int:recording_id>/download")
@login_required
def recording_download(profile_id: int, recording_id: int):
    return _recording_file(profile_id, recording_id, attachment=True)


@bp.post(BASE + "/recordings/<int:recording_id>/delete")
@login_required
def delete_recording(profile_id: int, recording_id: int):
    profile = web.profile_for_use(profile_id)
    ids = recordings.delete(web.session(), current_user, profile, [recording_id])
    return _answer(profile, "conference.recordings_index", _l("Recording deleted."),
                   lambda: _recordings_page(profile, trigger=_toast(_l("Recording deleted.")), undo_ids=ids))


@bp.post(BASE + "/recordings/restore")
@login_required
def restore_recordings(profile_id: int):
    profile = web.profile_for_use(profile_id)
    ids = [int(v) for v in request.form.getlist("ids") if v.isdigit() and len(v) < 11]
    try:
        recordings.restore(web.session(), current_user, profile, ids)
    except ValidationFailed as exc:
        return _answer(profile, "conference.recordings_index", exc.message,
                       lambda exc=exc: _recordings_page(profile, status=422, trigger=_toast(exc.message)), category="error")
    return _answer(profile, "conference.recordings_index", _l("Recording restored."),
                   lambda: _recordings_page(profile, trigger=_toast(_l("Recording restored."))))
