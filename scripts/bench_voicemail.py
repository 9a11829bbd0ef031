"""Measure the voicemail message list with a big box (default 10,000 messages).

    .venv/bin/python scripts/bench_voicemail.py [--messages 10000] [--runs 50] [--database-url URL]

Builds a fresh database (SQLite in a temp dir, or a new one on the --database-url server), loads the
demo data, inserts the messages for anna.schmidt@muster.example in one bulk insert, signs in with
Flask's test client and times whole requests (routing, session, three list queries, template
rendering) for several list states. Prints median / p95 / max in milliseconds and the number of SQL
statements per request.
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
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--database-url")
    args = parser.parse_args()

    from sqlalchemy import event, insert, select

    from tests import conftest
    from tests.conftest import prepared_database, test_config
    from webapp import create_app
    from webapp.extensions import db
    from webapp.models import UmsProfile, VoicemailMessage

    tmp = Path(tempfile.mkdtemp(prefix="bench-vm-"))
    if args.database_url:  # a server to create the benchmark's own database on, as the tests do
        conftest.TEST_DATABASE_URL = args.database_url
    url = prepared_database(tmp, "bench")
    app = create_app(test_config(url, MEDIA_ROOT=str(tmp / "media")))
    with app.app_context():
        session = db.session
        profile = session.scalar(select(UmsProfile).where(UmsProfile.email_normalized == "anna.schmidt@muster.example"))
        start = datetime(2025, 1, 1, tzinfo=UTC)
        rows = [
            {"profile_id": profile.id, "platform_message_id": f"bench-{i}", "called_e164": "+4930123456711",
             "caller_e164": None if i % 7 == 0 else f"+49{30 + i % 60}{1000000 + i}", "received_at": start + timedelta(minutes=37 * i),
             "duration_ms": 5000 + i % 50_000, "size_bytes": 80_000, "audio_key": f"bench/{i}.wav",
             "heard_at": None if i % 5 == 0 else start + timedelta(minutes=37 * i + 5), "created_at": start}
            for i in range(args.messages)
        ]
        t0 = time.perf_counter()
        session.execute(insert(VoicemailMessage), rows)
        session.commit()
        print(f"inserted {args.messages} messages in {time.perf_counter() - t0:.2f} s ({url.split(':')[0]})")
        profile_id = profile.id
        engine = db.engine
        if engine.dialect.name == "postgresql":  # what autovacuum does for a real box
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE voicemail_messages")

    client = app.test_client()
    response = client.post("/login", data={"email": "anna.schmidt@muster.example", "password": "demo-user-2026"})
    assert response.status_code == 302
    base = f"/profiles/{profile_id}/voicemail"
    last_page = -(-args.messages // 20)
    cases = [
        ("full page, page 1", base, {}),
        ("htmx partial, page 1", base, {"HX-Request": "true"}),
        (f"htmx partial, last page ({last_page})", f"{base}?page={last_page}", {"HX-Request": "true"}),
        ("htmx partial, new only", f"{base}?show=new", {"HX-Request": "true"}),
        ("htmx partial, caller search", f"{base}?caller=040+1000", {"HX-Request": "true"}),
        ("htmx partial, one day", f"{base}?day=2025-06-01", {"HX-Request": "true"}),
    ]
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    print(f"{'case':40} {'median':>8} {'p95':>8} {'max':>8} {'SQL':>4}")
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
        print(f"{name:40} {statistics.median(times):7.1f}ms {p95:7.1f}ms {max(times):7.1f}ms {len(statements):4d}")
    engine.dispose()
    conftest.drop_database(url)


if __name__ == "__main__":
    main()
