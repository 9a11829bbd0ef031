"""Rendered list fragments, kept per worker process for the next read of an unchanged box.

An htmx list fragment (voicemail messages, received faxes) spends about half of its request on the
page statement, the filter form and the template (docs/performance.md). Asked for again while
nothing it shows has changed (a refresh, going back to a tab, the first page again), it answers
the same HTML. So the view names what the fragment shows of its profile (``parts``: above all the
box's ``BoxVersion``, which the database counts up with every change of the box's rows and which
comes with the signed-in user in the session check's statement), and the fragment is kept under
that and everything else it depends on: the URL with its query, the user, locale and time zone,
and the session's CSRF secret (its forms carry a token of it).

Access is checked before, by the view (``web.profile_for_use``): a kept fragment is only answered
to a request that may see it. Nothing is shared between processes; each keeps at most
``FRAGMENT_CACHE_SIZE`` fragments (0 turns this off) for ``FRAGMENT_CACHE_SECONDS``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from flask import Flask, Response, current_app, request, session
from flask_babel import get_locale, get_timezone
from flask_login import current_user

from .htmx import wants_partial

DEFAULT_SIZE = 256
DEFAULT_SECONDS = 300


class FragmentStore:
    """A bounded map of key → (body, headers) that forgets the least recently used and the old."""

    def __init__(self, size: int, seconds: float):
        self.size, self.seconds = size, seconds
        self._entries: OrderedDict[Hashable, tuple[float, bytes, list]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> tuple[bytes, list] | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if time.monotonic() - entry[0] > self.seconds:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[1], entry[2]

    def put(self, key: Hashable, body: bytes, headers: list) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic(), body, headers)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


def init_app(app: Flask) -> None:
    size = int(app.config.get("FRAGMENT_CACHE_SIZE", DEFAULT_SIZE))
    seconds = float(app.config.get("FRAGMENT_CACHE_SECONDS", DEFAULT_SECONDS))
    app.extensions["fragments"] = FragmentStore(size, seconds) if size > 0 else None


def cached(parts: tuple | None, build: Callable[[], Response]) -> Response:
    """The fragment ``build()`` renders, or the one kept under the same key.

    ``parts`` must name everything of the profile the fragment shows beyond the request itself
    (None: do not keep it). Only a 200 of an htmx GET is kept, and only one that triggers nothing."""
    store: FragmentStore | None = current_app.extensions.get("fragments")
    if store is None or parts is None or request.method != "GET" or not wants_partial():
        return build()
    secret_name = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")

    def key(csrf_secret: str) -> tuple:
        return (request.path, request.query_string, current_user.get_id(), str(get_locale()), str(get_timezone()),
                csrf_secret, parts)

    csrf_secret = session.get(secret_name)
    found = store.get(key(csrf_secret)) if csrf_secret else None
    if found is not None:
        return Response(found[0], 200, found[1])
    response = build()
    csrf_secret = csrf_secret or session.get(secret_name)  # the render may have made the first one
    if csrf_secret and response.status_code == 200 and not response.direct_passthrough \
            and not response.is_streamed and "HX-Trigger" not in response.headers:
        store.put(key(csrf_secret), response.get_data(), list(response.headers))
    return response
