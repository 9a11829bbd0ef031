"""Measure the UMS profile list („Unified Messaging“ overview) with 10,000 profiles.

    .venv/bin/python scripts/bench_admin_overview.py                 # SQLite in a temp dir
    .venv/bin/python scripts/bench_admin_overview.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Builds a fresh database (migrations + demo data), adds N profiles with three numbers each on
contract V-200001, signs in as admin@muster.example and times whole requests through the Flask
test client (routing, authz, queries, template rendering): first page, a deep page, a search,
a filter, and the htmx partial. Prints median / p95 in milliseconds and the query count.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import event, select  # noqa: E402

from tests import conftest  # noqa: E402
from webapp import create_app  # noqa: E402


def add_profiles(app, count: int) -> None:
    import bench_data

    from webapp.extensions import db

    with app.app_context():
        bench_data.add_profiles(db.session, count)
        db.session.commit()
        bench_data.analyze(db.engine)
        db.engine.dispose()


def measure(client, url: str, headers: dict | None, runs: int, queries: list) -> dict:
    """Wall time (median, p95, best) and this thread's CPU time (median) per request. CPU time
    stays meaningful when other processes load the machine; SQLite runs in this thread."""
    client.get(url, headers=headers)  # warm up (template compile, caches)
    wall, cpu = [], []
    for _ in range(runs):
        queries.clear()
        start, start_cpu = time.perf_counter(), time.thread_time()
        response = client.get(url, headers=headers)
        cpu.append((time.thread_time() - start_cpu) * 1000)
        wall.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    wall.sort()
    return {"median": statistics.median(wall), "p95": wall[max(int(len(wall) * 0.95) - 1, 0)],
            "best": wall[0], "cpu": statistics.median(cpu), "queries": len(queries)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--database-url", default=None, help="a PostgreSQL URL (default: SQLite in a temp dir)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        if args.database_url:
            conftest.TEST_DATABASE_URL = args.database_url
        url = conftest.prepared_database(Path(tmp), "bench")
        try:
            app = create_app(conftest.test_config(url))
            started = time.perf_counter()
            add_profiles(app, args.profiles)
            print(f"database: {url.split('@')[-1]}; added {args.profiles} profiles with 3 numbers each "
                  f"in {time.perf_counter() - started:.1f} s")
            app = create_app(conftest.test_config(url))
            queries: list[str] = []
            with app.app_context():
                event.listen(app.extensions["db"].engine, "before_cursor_execute",
                             lambda *a: queries.append(a[2]))
            client = conftest.login(app.test_client(), "admin@muster.example")
            last_page = (args.profiles + 2 + 24) // 25
            cases = [
                ("first page (full)", "/ums", None),
                ("first page (htmx partial)", "/ums", {"HX-Request": "true"}),
                (f"page {last_page // 2} (full)", f"/ums?page={last_page // 2}", None),
                (f"last page {last_page} (full)", f"/ums?page={last_page}", None),
                ("search 'nach0999' (partial)", "/ums?q=nach0999", {"HX-Request": "true"}),
                ("search 'bench' page 100 (partial)", "/ums?q=bench&page=100", {"HX-Request": "true"}),
                ("filter site 'Benchmark' (full)", "/ums?site=999999", None),
            ]
            with app.app_context():
                from webapp.extensions import db
                from webapp.models import Site

                site_id = db.session.scalar(select(Site.id).where(Site.name == "Benchmark"))
            cases[-1] = ("filter site 'Benchmark' (full)", f"/ums?site={site_id}", None)
            print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
            print(f"{'request':36} {'median ms':>9} {'p95 ms':>7} {'best ms':>8} {'CPU ms':>7} {'queries':>7}")
            for name, path, headers in cases:
                r = measure(client, path, headers, args.runs, queries)
                print(f"{name:36} {r['median']:9.1f} {r['p95']:7.1f} {r['best']:8.1f} {r['cpu']:7.1f} "
                      f"{r['queries']:7d}")
            app.extensions["db"].engine.dispose()
        finally:
            conftest.drop_database(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
