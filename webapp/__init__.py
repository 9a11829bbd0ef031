"""UMS Portal: the self-service portal of a carrier's Unified Messaging package."""

from __future__ import annotations

from typing import Any

from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    from . import config as config_module
    from . import fragments, jobs, static_files, web
    from .extensions import babel, csrf, db, login_manager

    app = Flask(__name__, instance_path=str(config_module.INSTANCE))
    app.config.update(config_module.from_environment())
    if config:
        app.config.update(config)

    if app.config.get("PROXY_COUNT"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)

    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=web.select_locale)
    jobs.init_app(app)
    web.init_app(app)
    static_files.init_app(app)
    fragments.init_app(app)

    from .blueprints import register_blueprints

    register_blueprints(app)

    from . import cli

    cli.init_app(app)
    return app
