"""Counting the SQL statements of a request, for the tests that keep pages from growing with rows.

    with recorded(engine) as statements:
        client.get(url, headers=HTMX)
    assert len(statements) <= MAX_LIST_STATEMENTS

A list page (profiles, voicemail messages, faxes …) answers in at most ``MAX_LIST_STATEMENTS``
statements on either database, whatever its rows: the user with their grants, the page's own
queries, nothing per row. The htmx fragments need two (the user, with the profile for
voicemail and fax; the page with its counts), or one when an unchanged box's fragment comes from
the fragment cache; the full page adds what only it shows (navigation badges, contracts and licence
lines), a page past the end its counts and the last page (tests/routes/test_request_queries.py
keeps the exact numbers). Transaction control (BEGIN, SAVEPOINT, RELEASE) is not counted: it
differs between the databases and between the tests (a savepoint per request) and production.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event

MAX_LIST_STATEMENTS = 7
TRANSACTION_CONTROL = ("BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT")


@contextmanager
def recorded(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def _record(_conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", _record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", _record)


def statements_of(client, engine: Engine, url: str, headers: dict | None = None) -> list[str]:
    """The statements one GET of ``url`` runs (it must answer 200)."""
    with recorded(engine) as statements:
        response = client.get(url, headers=headers or {})
        assert response.status_code == 200, (url, response.status_code)
    return list(statements)


def touching(statements: list[str], table: str) -> list[str]:
    """The statements that read ``table`` (as a FROM or JOIN target)."""
    return [s for s in statements if f"FROM {table}" in s or f"JOIN {table}" in s]
