"""Blueprint registration: one package per area."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from . import admin, api, auth, conference, dashboard, fax, orders, outbox, voicemail

    for module in (auth, dashboard, admin, voicemail, fax, conference, orders, outbox, api):
        app.register_blueprint(module.bp)
