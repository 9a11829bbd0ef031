import hmac

from flask import current_app, jsonify, request

from ...extensions import csrf
from ...services import platform
from . import bp

csrf.exempt(bp)


@bp.before_request
def _authenticate():
    """Every call is signed (HMAC-SHA256 over timestamp and body) or carries the bearer token."""
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
        return None
    return jsonify(error="unauthorized",
                   message="Missing or wrong signature (X-UMS-Timestamp, X-UMS-Signature) or token."), 401


@bp.get("/ping")
def ping():
    return jsonify(ok=True)
