from flask import Blueprint

from ..guards import guard_ids

bp = Blueprint("conference", __name__)
guard_ids(bp)

from ...services.conference import jobs  # noqa: E402,F401  (registers the periodic purge)
from . import routes  # noqa: E402,F401


def _register_profile_hook() -> None:
    """Deleting a profile removes its recordings' files (the rows cascade in the database)."""
    from ...services import profiles
    from ...services.conference import recordings

    hooks = getattr(profiles, "BEFORE_PROFILE_DELETE", None)
    if hooks is not None and recordings.delete_profile_media not in hooks:
        hooks.append(recordings.delete_profile_media)


_register_profile_hook()
