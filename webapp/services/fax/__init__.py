"""Fax of a UMS profile: received faxes (``received``), sending with an exact preview, status and
retries (``sending``), settings (``settings``) and the documents' checks and conversions
(``documents``). Functions take the session and acting user explicitly and only flush."""

from __future__ import annotations

from . import documents, received, sending, settings  # noqa: F401
from .received import LIST_LOAD, ReceivedQuery, deposit, deposit_text, list_received, new_count  # noqa: F401
from .sending import SentQuery, apply_status, list_sent  # noqa: F401
from .settings import SettingsInput, number_of, settings_of, update_settings  # noqa: F401


def delete_profile_media(session, profile) -> None:
    """Remove the profile's fax files once its deletion is committed (rows cascade)."""
    from ...db import after_commit
    from .. import storage

    prefix = f"fax/{profile.id}"
    after_commit(session, lambda: storage.delete_prefix(prefix))


def referenced_keys(session) -> set[str]:
    """Every media key fax rows refer to (page images and previews are named by their fax, not
    stored in a column), for the media sweep (``storage.REFERENCE_SOURCES``)."""
    from sqlalchemy import select

    from ...models import FaxDocument, ReceivedFax, SentFax
    from . import sending as _sending

    keys: set[str] = set()
    for prefix, pages in session.execute(select(ReceivedFax.media_prefix, ReceivedFax.pages)):
        keys.add(f"{prefix}/thumb.png")
        keys.update(f"{prefix}/page-{n}.png" for n in range(1, pages + 1))
    for prefix, pages, version in session.execute(
            select(SentFax.media_prefix, SentFax.pages, SentFax.preview_version)):
        fax = SentFax(media_prefix=prefix, preview_version=version)
        keys.add(_sending.body_key(fax))
        keys.update(_sending.preview_key(fax, n) for n in range(1, (pages or 0) + 1))
    keys.update(session.scalars(select(FaxDocument.key)))
    return keys


def _register_media_references() -> None:
    from .. import storage

    sources = getattr(storage, "REFERENCE_SOURCES", None)
    if sources is not None and referenced_keys not in sources:
        sources.append(referenced_keys)


_register_media_references()
