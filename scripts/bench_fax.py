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
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--faxes", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--database-url")
    args = parser.parse_args()

    from sqlalchemy import event, insert, select

    from tests import conftest
    from tests.conftest import prepared_database, test_config
    from webapp import create_app
    from webapp.extensions import db
    from webapp.models import ReceivedFax, SentFax, UmsProfile

    tmp = Path(tempfile.mkdtemp(prefix="bench-fax-"))
    if args.database_url:  # a server to create the benchmark's own database on, as the tests do
        conftest.TEST_DATABASE_URL = args.database_url
    url = prepared_database(tmp, "benchfax")
    app = create_app(test_config(url, MEDIA_ROOT=str(tmp / "media")))
    with app.app_context():
        session = db.session
        profile = session.scalar(select(UmsProfile).where(UmsProfile.email_normalized == "anna.schmidt@muster.example"))
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
        if engine.dialect.name == "postgresql":  # what autovacuum does for a real box
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE fax_received")
                conn.exec_driver_sql("VACUUM ANALYZE fax_sent")

    client = app.test_client()
    response = client.post("/login", data={"email": "anna.schmidt@muster.example", "password": "demo-user-2026"})
    assert response.status_code == 302
    base = f"/profiles/{profile_id}/fax"
    last_page = -(-args.faxes // 20)
    htmx = {"HX-Request": "true"}
    cases = [
        ("received: full page, page 1", base, {}),
        ("received: htmx, page 1", base, htmx),
        (f"received: htmx, last page ({last_page})", f"{base}?page={last_page}", htmx),
        ("received: htmx, new only", f"{base}?show=new", htmx),
        ("received: htmx, sender search", f"{base}?sender=040+1000", htmx),
        ("received: htmx, station ID search", f"{base}?sender=STATION+4", htmx),
        ("received: htmx, date range", f"{base}?day_from=2025-03-01&day_until=2025-03-31", htmx),
        ("sent: full page, page 1", f"{base}/sent", {}),
        ("sent: htmx, page 1", f"{base}/sent", htmx),
        (f"sent: htmx, last page ({last_page})", f"{base}/sent?page={last_page}", htmx),
        ("sent: htmx, recipient search", f"{base}/sent?destination=041+2000", htmx),
    ]
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    print(f"{'case':42} {'median':>8} {'p95':>8} {'max':>8} {'SQL':>4}")
    for name, url_path, headers in cases:
        client.get(url_path, headers=headers)  # warm up (template compile, caches)
        times = []
        for _ in range(args.runs):
            statements.clear()
            t0 = time.perf_counter()
            response = client.get(url_path, headers=headers)
            times.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, response.status_code
        times.sort()
        p95 = times[int(len(times) * 0.95) - 1]
        print(f"{name:42} {statistics.median(times):7.1f}ms {p95:7.1f}ms {max(times):7.1f}ms {len(statements):4d}")
    engine.dispose()
    conftest.drop_database(url)


if __name__ == "__main__":
    main()
