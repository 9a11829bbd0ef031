"""Downloads the blueprints share: a CSV file streamed row by row (see services/csv_export.py)."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Response, stream_with_context

from ..services import csv_export


def csv_response(header: Iterable, rows: Iterable, stem: str) -> Response:
    """An attachment ``<stem>-<date>.csv``; the rows are read while it is sent (the request's
    context, and with it the database session, stays open until the last one)."""
    response = Response(stream_with_context(csv_export.rows_to_csv(header, rows)), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{csv_export.filename(stem)}"'
    response.headers["Cache-Control"] = "no-store"
    return response
