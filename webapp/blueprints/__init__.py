"""Blueprint registration: one package per area."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from . import account, admin, api, auth, conference, dashboard, fax, orders, outbox, voicemail

    for module in (auth, dashboard, admin, voicemail, fax, conference, orders, outbox, api, account):
        app.register_blueprint(module.bp)
    from . import health

    app.register_blueprint(health.bp)
