"""Fax of a UMS profile: received faxes (``received``), sending with an exact preview, status and
retries (``sending``), settings (``settings``) and the documents' checks and conversions
(``documents``). Functions take the session and acting user explicitly and only flush."""

from __future__ import annotations

from . import documents, received, sending, settings  # noqa: F401
from .received import ReceivedQuery, deposit, deposit_text, list_received, new_count  # noqa: F401
from .sending import SentQuery, apply_status, list_sent  # noqa: F401
from .settings import SettingsInput, number_of, settings_of, update_settings  # noqa: F401


def delete_profile_media(session, profile) -> None:
    """Remove the profile's fax files once its deletion is committed (rows cascade)."""
    from ...db import after_commit
    from .. import storage

    prefix = f"fax/{profile.id}"
    after_commit(session, lambda: storage.delete_prefix(prefix))
