from flask import Blueprint

from ..guards import guard_ids

bp = Blueprint("voicemail", __name__)
guard_ids(bp)

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
