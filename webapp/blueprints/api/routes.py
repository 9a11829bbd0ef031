import hmac

from flask import current_app, jsonify, request

from ...extensions import csrf
from ...services import platform
from . import bp

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
def ping():
    return jsonify(ok=True)


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document of this API (``spec/``)."""
    from .spec import document

    return jsonify(document())


# --- Anrufbeantworter (voicemail) ------------------------------------------------------------


def _voicemail_error(exc):
    """A refusal as JSON with the field it concerns (messages in English for the platform)."""
    from flask_babel import force_locale

    with force_locale("en"):
        body = {"error": type(exc).__name__, "message": str(exc.message)}
    if getattr(exc, "field", None):
        body["field"] = exc.field
    return jsonify(body), exc.status


@bp.post("/voicemail/messages")
def voicemail_deposit():
    """Multipart: audio (file), called, caller (empty when withheld), received_at (ISO 8601),
    platform_message_id. 201 when stored, 200 when that id was stored before."""
    from ...extensions import db
    from ...services import voicemail
    from ...services.errors import DomainError

    if request.mimetype not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        return jsonify(error="UnsupportedMediaType",
                       message="Send multipart/form-data with audio, called, caller, received_at and "
                               "platform_message_id."), 415
    upload = request.files.get("audio")
    data = voicemail.DepositInput(
        called=request.form.get("called", ""), caller=request.form.get("caller"),
        received_at=request.form.get("received_at"),
        platform_message_id=request.form.get("platform_message_id", ""),
        audio=upload.read() if upload else None,
    )
    try:
        message, created = voicemail.deposit(db.session, data)
    except DomainError as exc:
        return _voicemail_error(exc)
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
        return _voicemail_error(exc)
    return jsonify(ok=result.ok, reason=result.reason or None, attempts_left=result.attempts_left,
                   locked_until=result.locked_until.isoformat() if result.locked_until else None)


@bp.get("/voicemail/greetings/<int:greeting_id>/audio")
def voicemail_greeting_audio(greeting_id: int):
    """The telephony WAV of a greeting named in a ``voicemail.greeting_changed`` event."""
    from flask import abort, send_file

    from ...extensions import db
    from ...models import VoicemailGreeting
    from ...services import storage, voicemail

    greeting = db.session.get(VoicemailGreeting, greeting_id) if voicemail.valid_id(greeting_id) else None
    if greeting is None or greeting.status != "active" or not storage.exists(greeting.audio_key):
        abort(404)
    return send_file(storage.path_for(greeting.audio_key), mimetype="audio/wav", conditional=True)
