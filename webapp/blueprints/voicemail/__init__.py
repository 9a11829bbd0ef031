from flask import Blueprint
from flask_babel import lazy_gettext as _

bp = Blueprint("voicemail", __name__)


@bp.url_value_preprocessor
def _ids_in_range(_endpoint, values) -> None:
    """An id in a URL too large for the database names nothing: 404, never a database error."""
    from ...services.errors import NotFound
    from ...services.voicemail import valid_id

    for name, value in (values or {}).items():
        if name.endswith("_id") and isinstance(value, int) and not valid_id(value):
            raise NotFound(_("This item does not exist or has been deleted."))

from ...services import voicemail as _voicemail  # noqa: E402  (registers the mail hook)
from ...services import voicemail_jobs  # noqa: E402,F401  (registers the periodic purge)
from . import routes  # noqa: E402,F401


def _register_profile_hook() -> None:
    """Deleting a profile removes its voicemail files (the rows cascade in the database)."""
    try:
        from ...services import profiles
    except ImportError:  # pragma: no cover - the profile administration is not there yet
        return
    hooks = getattr(profiles, "BEFORE_PROFILE_DELETE", None)
    if hooks is not None and _voicemail.delete_profile_media not in hooks:
        hooks.append(_voicemail.delete_profile_media)


_register_profile_hook()
