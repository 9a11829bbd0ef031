"""Configuration from the environment with embedded defaults that work on a bare machine."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

INSTANCE = Path(os.environ.get("UMS_INSTANCE_PATH", Path(__file__).resolve().parent.parent / "instance"))


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


# What the pages may load: only this origin's scripts (no inline script, no eval: an injected
# <script> does not run), styles, images (Pico's icons are data: URIs) and media; no plugins,
# foreign frames or form targets. Inline styles stay allowed because templates use style
# attributes; htmx's own indicator <style> is switched off in base.html.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; media-src 'self' blob:; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
)


class ConfigurationError(RuntimeError):
    """The environment is not fit to start the portal (said in words an operator acts on)."""


def from_environment() -> dict:
    env = os.environ
    production = _bool("PRODUCTION", False)
    if production and not env.get("SECRET_KEY"):
        raise ConfigurationError(
            "PRODUCTION=1 needs SECRET_KEY: set it to a long random value (for example the output of "
            "`python -c 'import secrets; print(secrets.token_hex(32))'`), the same on every web server."
        )
    return {
        "PRODUCTION": production,
        "SECRET_KEY": env.get("SECRET_KEY") or _dev_secret(),
        "DATABASE_URL": env.get("DATABASE_URL") or f"sqlite:///{INSTANCE / 'ums.db'}",
        "REDIS_URL": env.get("REDIS_URL"),
        "HUEY_SQLITE_PATH": env.get("HUEY_SQLITE_PATH") or str(INSTANCE / "huey.db"),
        "HUEY_NAME": env.get("HUEY_NAME", "ums"),
        "SMTP_HOST": env.get("SMTP_HOST"),
        "SMTP_PORT": int(env.get("SMTP_PORT", "25")),
        "SMTP_USER": env.get("SMTP_USER"),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD"),
        "SMTP_STARTTLS": _bool("SMTP_STARTTLS", False),
        "MAIL_FROM": env.get("MAIL_FROM", "UMS Portal <no-reply@ums.example>"),
        "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL") or f"http://127.0.0.1:{env.get('PORT') or '5000'}",
        # The carrier's name in page titles of the Bestellsystem („Plusnet – Warenkorb“); none by default.
        "CARRIER_NAME": env.get("CARRIER_NAME", ""),
        "PLATFORM_ADAPTER": env.get("PLATFORM_ADAPTER", "simulator"),
        "PLATFORM_WEBHOOK_URL": env.get("PLATFORM_WEBHOOK_URL"),
        "PLATFORM_SECRET": env.get("PLATFORM_SECRET", "dev-platform-secret"),
        "PLATFORM_API_TOKEN": env.get("PLATFORM_API_TOKEN"),
        # The Dev-Postfach shows every mail, set-password links included, to anyone: only when asked
        # for (`make run` sets DEV_MAILBOX=1 for the demo), never in production.
        "DEV_MAILBOX": _bool("DEV_MAILBOX", False) and not production,
        "CONTENT_SECURITY_POLICY": env.get("CONTENT_SECURITY_POLICY", CONTENT_SECURITY_POLICY),
        # Reverse proxies in front of the portal whose X-Forwarded-For/-Proto to trust (0: none).
        "PROXY_COUNT": int(env.get("PROXY_COUNT", "0")),
        "MEDIA_ROOT": env.get("MEDIA_ROOT") or str(INSTANCE / "media"),
        # Media store: "local" (MEDIA_ROOT) or "s3" (credentials from the usual AWS_* environment).
        "MEDIA_STORAGE": env.get("MEDIA_STORAGE", "local"),
        "MEDIA_S3_BUCKET": env.get("MEDIA_S3_BUCKET"),
        "MEDIA_S3_PREFIX": env.get("MEDIA_S3_PREFIX", ""),
        "MEDIA_S3_ENDPOINT_URL": env.get("MEDIA_S3_ENDPOINT_URL"),
        "MEDIA_S3_REGION": env.get("MEDIA_S3_REGION") or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"),
        "MEDIA_SWEEP_GRACE_MINUTES": int(env.get("MEDIA_SWEEP_GRACE_MINUTES", "60")),
        "READY_TIMEOUT": float(env.get("READY_TIMEOUT", "2")),
        # The signed session cookie is accepted this long after it was last written (at sign-in);
        # it also ends with the browser. A copied cookie is thus not valid for ever.
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=int(env.get("SESSION_HOURS", "12"))),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(
            "SESSION_COOKIE_SECURE", env.get("PUBLIC_BASE_URL", "").startswith("https://")
        ),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _bool(
            "SESSION_COOKIE_SECURE", env.get("PUBLIC_BASE_URL", "").startswith("https://")
        ),
        # Who must sign in with a second factor (TOTP): "back_office" and/or "admins", comma-separated.
        "TWO_FACTOR_REQUIRED": env.get("TWO_FACTOR_REQUIRED", ""),
        "BABEL_DEFAULT_LOCALE": "de",
        "BABEL_DEFAULT_TIMEZONE": env.get("TIMEZONE", "Europe/Berlin"),
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 32 * 1024 * 1024,
        "HUEY_IMMEDIATE": _bool("HUEY_IMMEDIATE", False),
        # Fax: tries per transmission and the pause between them, CCITT group3/group4, how long
        # rendering one untrusted document may take, the embedded simulator's answer delay.
        "FAX_MAX_ATTEMPTS": int(env.get("FAX_MAX_ATTEMPTS", "3")),
        "FAX_RETRY_SECONDS": int(env.get("FAX_RETRY_SECONDS", "120")),
        "FAX_COMPRESSION": env.get("FAX_COMPRESSION", "group4"),
        "FAX_RENDER_SECONDS": int(env.get("FAX_RENDER_SECONDS", "60")),
        "FAX_SIMULATOR_SECONDS": int(env.get("FAX_SIMULATOR_SECONDS", "3")),
        # A database that does not answer is a clear error within seconds (SQLite: wait for the
        # write lock; PostgreSQL: connect and per-statement timeouts), in seconds.
        "DB_BUSY_TIMEOUT": float(env.get("DB_BUSY_TIMEOUT", "5")),
        "DB_CONNECT_TIMEOUT": int(env.get("DB_CONNECT_TIMEOUT", "5")),
        "DB_STATEMENT_TIMEOUT": float(env.get("DB_STATEMENT_TIMEOUT", "15")),
        # PostgreSQL: a pooled connection that rested longer than this (seconds) is pinged first.
        "DB_PING_AFTER": float(env.get("DB_PING_AFTER", "1")),
        # The outbox relay: mail and platform events are retried with exponential backoff for this
        # many hours before they count as undeliverable (the back office can still resend them).
        "OUTBOX_RETRY_HOURS": float(env.get("OUTBOX_RETRY_HOURS", "48")),
        # Rendered list fragments each web worker keeps for the next read of an unchanged box
        # (webapp/fragments.py): how many (0: none) and for how long at most (seconds).
        "FRAGMENT_CACHE_SIZE": int(env.get("FRAGMENT_CACHE_SIZE", "256")),
        "FRAGMENT_CACHE_SECONDS": float(env.get("FRAGMENT_CACHE_SECONDS", "300")),
    }


def _dev_secret() -> str:
    """A stable per-instance secret for development, so sessions survive a restart."""
    path = INSTANCE / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        INSTANCE.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        path.write_text(key)
        return key
