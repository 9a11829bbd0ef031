"""Measure the fax lists with a big box (default 10,000 received and 10,000 sent faxes).

    .venv/bin/python scripts/bench_fax.py [--faxes 10000] [--runs 50] [--database-url URL]

Builds a fresh database (SQLite in a temp dir, or a new one on the --database-url server), loads the
demo data, inserts the faxes for anna.schmidt@muster.example in bulk, signs in with Flask's test
client and times whole requests (routing, session, list queries, template rendering) for the
received list (pages, new only, sender search, date range) and the sent list. Prints median / p95 /
max in milliseconds and the number of SQL statements per request (the same at any box size).
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

from benchlib import HTMX, analyse, anna_profile, demo_app, finish, time_requests


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--faxes", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--database-url")
    args = parser.parse_args()

    from sqlalchemy import insert

    from webapp.extensions import db
    from webapp.models import ReceivedFax, SentFax

    app, url = demo_app("fax", args.database_url)
    with app.app_context():
        session = db.session
        profile = anna_profile(session)
        start = datetime(2025, 1, 1, tzinfo=UTC)
        received = [
            {"profile_id": profile.id, "platform_fax_id": f"bench-{i}", "called_e164": "+4930123456710",
             "caller_e164": None if i % 9 == 0 else f"+49{30 + i % 60}{1000000 + i}",
             "station_id": f"STATION {i % 100}" if i % 3 == 0 else None,
             "received_at": start + timedelta(minutes=37 * i), "pages": 1 + i % 7, "size_bytes": 60_000,
             "media_prefix": f"bench/{i}", "pdf_key": f"bench/{i}/fax.pdf", "preview_status": "ready",
             "read_at": None if i % 5 == 0 else start + timedelta(minutes=37 * i + 5), "created_at": start}
            for i in range(args.faxes)
        ]
        statuses = ["sent"] * 8 + ["busy", "no_answer"]
        sent = [
            {"profile_id": profile.id, "destination_e164": f"+49{40 + i % 50}{2000000 + i}", "resolution": "fine",
             "status": statuses[i % 10], "attempts": 1 if i % 10 < 8 else 3, "max_attempts": 3,
             "reason": None if i % 10 < 8 else "Besetzt", "pages": 1 + i % 5, "media_prefix": f"bench/s{i}",
             "preview_status": "ready", "preview_version": 1, "cover_enabled": False,
             "report_key": f"bench/s{i}/report.pdf", "created_at": start + timedelta(minutes=41 * i),
             "sent_at": start + timedelta(minutes=41 * i + 1)}
            for i in range(args.faxes)
        ]
        t0 = time.perf_counter()
        session.execute(insert(ReceivedFax), received)
        session.execute(insert(SentFax), sent)
        session.commit()
        print(f"inserted {args.faxes} received and {args.faxes} sent faxes in {time.perf_counter() - t0:.2f} s "
              f"({url.split(':')[0]})")
        profile_id = profile.id
        engine = db.engine
        analyse(engine, "fax_received", "fax_sent")

    base = f"/profiles/{profile_id}/fax"
    last_page = -(-args.faxes // 20)
    time_requests(app, engine, [
        ("received: full page, page 1", base, {}),
        ("received: htmx, page 1", base, HTMX),
        (f"received: htmx, last page ({last_page})", f"{base}?page={last_page}", HTMX),
        ("received: htmx, new only", f"{base}?show=new", HTMX),
        ("received: htmx, sender search", f"{base}?sender=040+1000", HTMX),
        ("received: htmx, station ID search", f"{base}?sender=STATION+4", HTMX),
        ("received: htmx, date range", f"{base}?day_from=2025-03-01&day_until=2025-03-31", HTMX),
        ("sent: full page, page 1", f"{base}/sent", {}),
        ("sent: htmx, page 1", f"{base}/sent", HTMX),
        (f"sent: htmx, last page ({last_page})", f"{base}/sent?page={last_page}", HTMX),
        ("sent: htmx, recipient search", f"{base}/sent?destination=041+2000", HTMX),
    ], args.runs)
    finish(engine, url)


if __name__ == "__main__":
    main()
