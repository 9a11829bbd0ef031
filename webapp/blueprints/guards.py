"""Guards shared by the blueprints of the boxes (voicemail, fax, recordings)."""

from __future__ import annotations

from flask import Blueprint
from flask_babel import lazy_gettext as _


def guard_ids(bp: Blueprint) -> None:
    """An id in a URL too large for the database names nothing: 404, never a database error."""

    @bp.url_value_preprocessor
    def _ids_in_range(_endpoint, values) -> None:
        from ..services.errors import NotFound
        from ..services.inbox import valid_id

        for name, value in (values or {}).items():
            if name.endswith("_id") and isinstance(value, int) and not valid_id(value):
                raise NotFound(_("This item does not exist or has been deleted."))
