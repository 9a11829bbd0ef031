"""Extension objects, created unbound here and bound in ``create_app``."""

from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf import CSRFProtect

from .db import Database

db = Database()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


def _csrf_fields_without_id() -> None:
    """Every form's hidden CSRF field renders without ``id="csrf_token"``: a page has up to seven
    forms, and one id may occur only once in a document (the Nu Html Checker refuses it). Nothing
    refers to the field by id; the server reads it by name."""
    from wtforms.csrf.core import CSRFTokenField
    from wtforms.widgets import HiddenInput

    class HiddenInputWithoutId(HiddenInput):
        def __call__(self, field, **kwargs):
            kwargs.setdefault("id", False)
            return super().__call__(field, **kwargs)

    CSRFTokenField.widget = HiddenInputWithoutId()


_csrf_fields_without_id()
