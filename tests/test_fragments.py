"""The fragment store keeps at most its size, forgets the least recently used first and nothing
outlives its seconds; a size of 0 turns the cache off."""

from __future__ import annotations

import time

from webapp.fragments import FragmentStore


def test_the_least_recently_used_goes_first():
    store = FragmentStore(size=2, seconds=60)
    store.put("a", b"A", [])
    store.put("b", b"B", [])
    assert store.get("a") == (b"A", [])  # a is now the most recently used
    store.put("c", b"C", [])
    assert store.get("b") is None and store.get("a") is not None and store.get("c") is not None
    assert len(store) == 2


def test_nothing_outlives_its_seconds():
    store = FragmentStore(size=8, seconds=0.05)
    store.put("a", b"A", [("Content-Type", "text/html")])
    assert store.get("a") == (b"A", [("Content-Type", "text/html")])
    time.sleep(0.06)
    assert store.get("a") is None and len(store) == 0


def test_size_zero_keeps_nothing(db_session, app, client):
    from tests.conftest import HTMX, login
    from tests.querycount import statements_of
    from tests.services.test_voicemail import anna
    from webapp import fragments

    app.config["FRAGMENT_CACHE_SIZE"] = 0
    fragments.init_app(app)
    url = f"/profiles/{anna(db_session).id}/voicemail"
    login(client, "anna.schmidt@muster.example")
    client.get(url, headers=HTMX)
    client.get(url, headers=HTMX)
    assert len(statements_of(client, app.extensions["db"].engine, url, HTMX)) == 2
