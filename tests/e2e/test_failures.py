"""A failed or unreachable server is visible in the browser: htmx raises a toast saying nothing
was changed (issue 7 point 3), and the back office sees undeliverable mail (point 2)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in
from tests.e2e.test_voicemail import ANNA, anna_id  # noqa: F401 - fixture

SETTINGS = "**/voicemail/settings"


@pytest.mark.parametrize(("failure", "text"), [
    ("server", "Bei uns ist etwas schiefgegangen; es wurde nichts geändert."),
    ("network", "Das Portal war nicht erreichbar; es wurde nichts geändert."),
])
def test_a_failed_save_says_that_nothing_was_changed(page: Page, anna_id, failure, text):  # noqa: F811
    sign_in(page, ANNA)
    page.goto(f"/profiles/{anna_id}/voicemail/settings")

    def fail(route):
        if route.request.method != "POST":
            return route.continue_()
        if failure == "server":  # what a dead worker behind the proxy answers
            return route.fulfill(status=502, body="Bad Gateway")
        return route.abort("connectionrefused")

    page.route(SETTINGS, fail)
    page.get_by_role("button", name="Speichern", exact=True).click()
    expect(page.get_by_role("status").filter(has_text=text)).to_be_visible()
    page.unroute(SETTINGS)


def test_the_back_office_finds_the_undeliverable_page(page: Page):
    sign_in(page, "betrieb@carrier.example")
    page.get_by_role("link", name="Unzustellbar").click()
    expect(page.get_by_role("heading", name="Unzustellbare Mails und Ereignisse")).to_be_visible()
    expect(page.get_by_text("Keine unzustellbaren Mails.")).to_be_visible()
