from flask import Blueprint
from flask_babel import lazy_gettext as _l

bp = Blueprint("admin", __name__)


@bp.url_value_preprocessor
def _ids_in_range(_endpoint, values) -> None:
    """An id in a URL too large for the database names nothing: 404, never a database error."""
    from ...services.errors import NotFound
    from ...services.profiles import valid_id

    for name, value in (values or {}).items():
        if name.endswith("_id") and isinstance(value, int) and not valid_id(value):
            raise NotFound(_l("This UMS profile does not exist or has been deleted."))


from . import routes  # noqa: E402,F401
