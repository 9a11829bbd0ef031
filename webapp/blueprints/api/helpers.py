"""What every ``/api/v1`` endpoint of a box (voicemail, fax, recordings) needs: refusals as JSON
naming the field, and the check that a deposit is sent as a form."""

from __future__ import annotations

from flask import jsonify, request


def error_response(exc):
    """A ``DomainError`` as JSON with the field it concerns (messages in English for the platform)."""
    from flask_babel import force_locale

    with force_locale("en"):
        body = {"error": type(exc).__name__, "message": str(exc.message)}
    if getattr(exc, "field", None):
        body["field"] = exc.field
    return jsonify(body), exc.status


def require_form(fields: str):
    """None when the body is a form (multipart or urlencoded), else the 415 answer naming ``fields``."""
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        return None
    return jsonify(error="UnsupportedMediaType", message=f"Send multipart/form-data with {fields}."), 415


def upload_bytes(name: str) -> bytes | None:
    upload = request.files.get(name)
    return upload.read() if upload else None
