from flask import Blueprint

from ..guards import guard_ids

bp = Blueprint("fax", __name__)
guard_ids(bp)

from ...services import fax as _fax  # noqa: E402
from ...services import fax_jobs, platform  # noqa: E402
from . import routes  # noqa: E402,F401

# The embedded platform simulator answers fax transmissions (busy on …666, no answer on …777).
platform.SIMULATED_ANSWERS["fax.send"] = fax_jobs.answer_in_simulator


def _register_profile_hook() -> None:
    """Deleting a profile removes its fax files (the rows cascade in the database)."""
    from ...services import profiles

    hooks = getattr(profiles, "BEFORE_PROFILE_DELETE", None)
    if hooks is not None and _fax.delete_profile_media not in hooks:
        hooks.append(_fax.delete_profile_media)


_register_profile_hook()
