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
import time
from datetime import UTC, datetime, timedelta

from benchlib import HTMX, analyse, anna_profile, demo_app, finish, time_requests


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--database-url")
    args = parser.parse_args()

    from sqlalchemy import insert

    from webapp.extensions import db
    from webapp.models import VoicemailMessage

    app, url = demo_app("vm", args.database_url)
    with app.app_context():
        session = db.session
        profile = anna_profile(session)
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
        analyse(engine, "voicemail_messages")

    base = f"/profiles/{profile_id}/voicemail"
    last_page = -(-args.messages // 20)
    time_requests(app, engine, [
        ("full page, page 1", base, {}),
        ("htmx partial, page 1", base, HTMX),
        (f"htmx partial, last page ({last_page})", f"{base}?page={last_page}", HTMX),
        ("htmx partial, new only", f"{base}?show=new", HTMX),
        ("htmx partial, caller search", f"{base}?caller=040+1000", HTMX),
        ("htmx partial, date range", f"{base}?since=2025-06-01&until=2025-06-30", HTMX),
    ], args.runs)
    finish(engine, url)


if __name__ == "__main__":
    main()
