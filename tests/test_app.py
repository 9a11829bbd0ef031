"""The application's shape: its blueprints, and routes that hold no SQL (style.md rules 2 and 3)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from flask.cli import routes_command

BLUEPRINTS = ["auth", "dashboard", "admin", "voicemail", "fax", "conference", "orders", "api"]
ROUTES = sorted((Path(__file__).resolve().parent.parent / "webapp" / "blueprints").glob("*/routes.py"))
SESSION_QUERIES = {"execute", "scalar", "scalars", "query"}


def test_flask_routes_lists_every_blueprint(runner):
    result = runner.invoke(routes_command)
    assert result.exit_code == 0, result.output
    endpoints = {line.split()[0] for line in result.output.splitlines()[2:] if line.strip()}
    for name in BLUEPRINTS:
        assert any(endpoint.startswith(f"{name}.") for endpoint in endpoints), name


def test_every_blueprint_is_registered(app):
    assert set(BLUEPRINTS) <= set(app.blueprints)


@pytest.mark.parametrize("path", ROUTES, ids=lambda p: p.parent.name)
def test_routes_hold_no_sql(path):
    """Queries belong in webapp/services/; routes call a service."""
    tree = ast.parse(path.read_text(), str(path))
    offences = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            offences.append(f"line {node.lineno}: imports {node.module}")
        if isinstance(node, ast.Import) and any(a.name.startswith("sqlalchemy") for a in node.names):
            offences.append(f"line {node.lineno}: imports sqlalchemy")
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) in SESSION_QUERIES:
            offences.append(f"line {node.lineno}: calls .{node.func.attr}()")
    assert not offences, f"{path.parent.name}/routes.py: " + "; ".join(offences)


# --- configuration for production -----------------------------------------------------------------


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    from webapp import config

    monkeypatch.setenv("PRODUCTION", "1")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(config.ConfigurationError, match="PRODUCTION=1 needs SECRET_KEY"):
        config.from_environment()


def test_production_never_shows_the_dev_mailbox(monkeypatch):
    from webapp import config

    monkeypatch.setenv("PRODUCTION", "1")
    monkeypatch.setenv("SECRET_KEY", "x" * 64)
    monkeypatch.setenv("DEV_MAILBOX", "1")  # it shows set-password links to anyone
    settings = config.from_environment()
    assert settings["DEV_MAILBOX"] is False
    assert settings["SECRET_KEY"] == "x" * 64


def test_dev_mailbox_is_404_when_off(client, app):
    app.config["DEV_MAILBOX"] = False
    assert client.get("/dev/mailbox").status_code == 404
    assert "Dev-Postfach" not in client.get("/login").text


TEMPLATES = Path(__file__).resolve().parent.parent / "webapp" / "templates"
def test_templates_hold_no_inline_script_nor_event_handler_attribute():
    """The Content-Security-Policy allows scripts only from static files: inline code would not run."""
    import re

    found = {str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html")
             if re.search(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+=|\bhx-on|javascript:", p.read_text())}
    assert not found, f"inline scripts in {sorted(found)}: move them to webapp/static/"
