import hmac

from flask import current_app, jsonify, request

from ...db import writes
from ...extensions import csrf
from ...services import platform
from . import bp
from .helpers import error_response, require_form, upload_bytes

csrf.exempt(bp)


@bp.before_request
def _authenticate():
    """Every call is signed (HMAC-SHA256 over timestamp and body) or carries the bearer token."""
    if request.endpoint == "api.openapi":
        return None  # the description of the API is public
    cfg = current_app.config
    token = cfg.get("PLATFORM_API_TOKEN")
    auth = request.headers.get("Authorization", "")
    if token and auth.startswith("Bearer ") and hmac.compare_digest(auth[7:], token):
        return None
    if platform.verify_request(
        cfg["PLATFORM_SECRET"],
        request.headers.get(platform.TIMESTAMP_HEADER),
        request.get_data(cache=True),
        request.headers.get(platform.SIGNATURE_HEADER),
    ):
        from ...extensions import db

        # The signature covers timestamp and body; with method and path it names one request.
        seen = f"{request.method} {request.full_path} {request.headers[platform.SIGNATURE_HEADER]}"
        if not platform.accept_once(db.session, seen):
            return jsonify(error="replayed",
                           message="This signed request was accepted before; sign every request anew."), 409
        return None
    return jsonify(error="unauthorized",
                   message="Missing or wrong signature (X-UMS-Timestamp, X-UMS-Signature) or token."), 401


@bp.before_request
def _readable_input():
    """JSON the API can read (422 for nesting too deep, text with control characters) and form
    fields without control characters, checked once for every endpoint."""
    from ...inputs import UnreadableJson, has_control_characters, parse_json

    if request.is_json and request.get_data(cache=True):
        try:
            parse_json(request.get_data(cache=True))
        except UnreadableJson as exc:
            return jsonify(error="ValidationFailed", message=str(exc)), 422
    for name, value in request.form.items(multi=True):
        if has_control_characters(value) or has_control_characters(name):
            return jsonify(error="ValidationFailed", field=name,
                           message=f"{name} contains control characters (such as a NUL byte)."), 422
    return None


@bp.get("/ping")
@writes  # its signature is recorded (a replay is refused)
def ping():
    return jsonify(ok=True)


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document of this API (``spec/``)."""
    from .spec import document

    return jsonify(document())


# --- Anrufbeantworter (voicemail) ------------------------------------------------------------


@bp.post("/voicemail/messages")
def voicemail_deposit():
    """Multipart: audio (file), called, caller (empty when withheld), received_at (ISO 8601),
    platform_message_id. 201 when stored, 200 when that id was stored before."""
    from ...extensions import db
    from ...services import voicemail
    from ...services.errors import DomainError

    refused = require_form("audio, called, caller, received_at and platform_message_id")
    if refused:
        return refused
    data = voicemail.DepositInput(
        called=request.form.get("called", ""), caller=request.form.get("caller"),
        received_at=request.form.get("received_at"),
        platform_message_id=request.form.get("platform_message_id", ""),
        audio=upload_bytes("audio"),
    )
    try:
        message, created = voicemail.deposit(db.session, data)
    except DomainError as exc:
        return error_response(exc)
    return jsonify(id=message.id, platform_message_id=message.platform_message_id, created=created,
                   duration_ms=message.duration_ms), 201 if created else 200


@bp.post("/voicemail/pin-check")
def voicemail_pin_check():
    """JSON or form: number, pin → {"ok": true|false, ...}; 3 wrong PINs lock for 15 minutes."""
    from ...extensions import db
    from ...services import voicemail
    from ...services.errors import DomainError

    values = request.get_json(silent=True) if request.is_json else request.form
    if not isinstance(values, dict) and not hasattr(values, "getlist"):
        return jsonify(error="ValidationFailed", message="Send a JSON object or a form with number and pin."), 422
    number = voicemail.normalize_number(str(values.get("number", "")))
    if number is None:
        return jsonify(error="ValidationFailed", message="number is missing or not a phone number.",
                       field="number"), 422
    try:
        result = voicemail.check_pin(db.session, number, str(values.get("pin", "")))
    except DomainError as exc:
        return error_response(exc)
    return jsonify(ok=result.ok, reason=result.reason or None, attempts_left=result.attempts_left,
                   locked_until=result.locked_until.isoformat() if result.locked_until else None)


@bp.get("/voicemail/greetings/<int:greeting_id>/audio")
@writes  # its signature is recorded (a replay is refused)
def voicemail_greeting_audio(greeting_id: int):
    """The telephony WAV of a greeting named in a ``voicemail.greeting_changed`` event."""
    from flask import abort

    from ...extensions import db
    from ...models import VoicemailGreeting
    from ...services import storage, voicemail

    greeting = db.session.get(VoicemailGreeting, greeting_id) if voicemail.valid_id(greeting_id) else None
    if greeting is None or greeting.status != "active":
        abort(404)
    try:
        return storage.serve(greeting.audio_key, "audio/wav")
    except storage.StorageError:
        abort(404)


# --- Konferenz (conference) ------------------------------------------------------------------


@bp.post("/conference/events")
def conference_event():
    """JSON: event_id, kind (joined|left|talking|muted), number, call_id, occurred_at (ISO 8601),
    caller, name, moderator (joined), value (talking/muted). 200 {"applied": true|false}: false
    when that event_id was applied before (a replay changes nothing)."""
    from ...extensions import db
    from ...services.conference import live
    from ...services.errors import DomainError

    values = request.get_json(silent=True)
    if not isinstance(values, dict):
        return jsonify(error="ValidationFailed",
                       message="Send a JSON object with event_id, kind, number, call_id and occurred_at."), 422
    value = values.get("value")
    data = live.EventInput(
        event_id=str(values.get("event_id") or ""), kind=str(values.get("kind") or ""),
        number=str(values.get("number") or ""), call_id=str(values.get("call_id") or ""),
        occurred_at=values.get("occurred_at") if isinstance(values.get("occurred_at"), str) else None,
        caller=values.get("caller") if isinstance(values.get("caller"), str) else None,
        name=values.get("name") if isinstance(values.get("name"), str) else None,
        moderator=values.get("moderator") is True, value=value if isinstance(value, bool) else None,
    )
    try:
        person, applied = live.apply_event(db.session, data)
    except DomainError as exc:
        return error_response(exc)
    return jsonify(applied=applied, event_id=data.event_id,
                   participant={"call_id": person.call_id, "present": person.left_at is None,
                                "talking": person.talking, "muted": person.muted} if person else None)


@bp.get("/conference/rooms/<path:number>")
@writes  # its signature is recorded (a replay is refused)
def conference_room(number: str):
    """The room on ``number`` with its PINs in clear text and its settings, read by the platform
    after a ``conference.room_changed`` event (the events themselves carry no PINs)."""
    from ...extensions import db
    from ...services.conference import room
    from ...services.deposits import normalize_number
    from ...services.errors import DomainError

    e164 = normalize_number(number)
    if e164 is None:
        return jsonify(error="ValidationFailed", message="number is not a phone number.", field="number"), 422
    try:
        return jsonify(room.room_for_platform(db.session, e164))
    except DomainError as exc:
        return error_response(exc)


@bp.post("/conference/recordings")
def conference_recording():
    """Multipart: audio (file), called, platform_recording_id, started_at (ISO 8601). 201 when
    stored, 200 when that id was stored before, 409 when the room does not allow recording."""
    from ...extensions import db
    from ...services.conference import recordings
    from ...services.errors import DomainError

    refused = require_form("audio, called, platform_recording_id and started_at")
    if refused is not None:
        return refused
    data = recordings.RecordingInput(
        called=request.form.get("called", ""), platform_recording_id=request.form.get("platform_recording_id", ""),
        started_at=request.form.get("started_at"), audio=upload_bytes("audio"))
    try:
        recording, created = recordings.deposit(db.session, data)
    except DomainError as exc:
        return error_response(exc)
    return jsonify(id=recording.id, platform_recording_id=recording.platform_recording_id, created=created,
                   duration_ms=recording.duration_ms), 201 if created else 200
# --- Fax -------------------------------------------------------------------------------------


@bp.post("/fax/received")
def fax_received():
    """Multipart: document (TIFF or PDF file), called, caller (empty when withheld), station_id,
    received_at (ISO 8601), platform_fax_id. 201 when stored, 200 when that id was stored before."""
    from ...extensions import db
    from ...services.errors import DomainError
    from ...services.fax import received

    refused = require_form("document, called, caller, station_id, received_at and platform_fax_id")
    if refused:
        return refused
    data = received.DepositInput(
        called=request.form.get("called", ""), caller=request.form.get("caller"),
        station_id=request.form.get("station_id"), received_at=request.form.get("received_at"),
        platform_fax_id=request.form.get("platform_fax_id", ""), document=upload_bytes("document"),
    )
    try:
        fax, created = received.deposit(db.session, data)
    except DomainError as exc:
        return error_response(exc)
    return jsonify(id=fax.id, platform_fax_id=fax.platform_fax_id, created=created, pages=fax.pages), \
        201 if created else 200


@bp.post("/fax/status")
def fax_status():
    """JSON or form: platform_fax_id (of the attempt, from the ``fax.send`` event), status (sending,
    sent, busy, no_answer, failed), reason. Idempotent; reports of earlier attempts or after the
    final state are accepted and change nothing (``changed: false``)."""
    from ...extensions import db
    from ...services.errors import DomainError, ValidationFailed
    from ...services.fax import sending

    values = request.get_json(silent=True) if request.is_json else request.form
    if not isinstance(values, dict) and not hasattr(values, "getlist"):
        return jsonify(error="ValidationFailed", message="Send a JSON object or a form with platform_fax_id and status."), 422
    platform_fax_id = str(values.get("platform_fax_id") or "").strip()
    try:
        if not platform_fax_id or len(platform_fax_id) > 100:
            raise ValidationFailed("platform_fax_id is missing or too long.", field="platform_fax_id")
        fax, changed = sending.apply_status(db.session, platform_fax_id, str(values.get("status") or ""),
                                            reason=str(values.get("reason") or "") or None)
    except DomainError as exc:
        return error_response(exc)
    return jsonify(fax_id=fax.id, status=fax.status.value, attempts=fax.attempts, changed=changed)


@bp.get("/fax/sent/<platform_fax_id>/document")
@writes  # its signature is recorded (a replay is refused)
def fax_document(platform_fax_id: str):
    """The TIFF (Class F, G3/G4) of one attempt named in a ``fax.send`` event."""
    from flask import Response

    from ...extensions import db
    from ...services.errors import DomainError
    from ...services.fax import sending

    try:
        data = sending.tiff_for_platform(db.session, platform_fax_id[:100])
    except DomainError as exc:
        return error_response(exc)
    return Response(data, mimetype="image/tiff")
