"""CSV files for Excel in German: UTF-8 with a byte order mark, ``;`` between fields, CRLF line
ends, produced row by row so a list of 10,000 entries never sits in memory at once.

A cell that starts with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return) would be a
formula to a spreadsheet; it gets a leading apostrophe (OWASP's advice against CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date, datetime

BOM = "\ufeff"
DELIMITER = ";"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        text = value.strftime("%d.%m.%Y %H:%M")
    elif isinstance(value, date):
        text = value.strftime("%d.%m.%Y")
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def rows_to_csv(header: Iterable, rows: Iterable[Iterable]) -> Iterator[str]:
    """The file as chunks of text: the BOM and the header, then about 100 rows per chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=DELIMITER, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    buffer.write(BOM)
    writer.writerow([cell(h) for h in header])
    for count, row in enumerate(rows, 1):
        writer.writerow([cell(v) for v in row])
        if count % 100 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def filename(stem: str, today: date | None = None) -> str:
    return f"{stem}-{(today or date.today()).isoformat()}.csv"
