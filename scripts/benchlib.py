"""What the in-process list benchmarks (``bench_voicemail.py``, ``bench_fax.py``) share: a fresh
database with the demo data (SQLite in a temp dir, or a new database on a PostgreSQL server, as the
tests make them), Anna Schmidt's profile, a signed-in test client, and timing whole requests."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ANNA = "anna.schmidt@muster.example"
HTMX = {"HX-Request": "true"}


def demo_app(name: str, database_url: str | None):
    """(app, url): the portal on a new database of its own with the demo data."""
    from tests import conftest
    from tests.conftest import prepared_database, test_config
    from webapp import create_app

    tmp = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    if database_url:  # a server to create the benchmark's own database on
        conftest.TEST_DATABASE_URL = database_url
    url = prepared_database(tmp, name)
    return create_app(test_config(url, MEDIA_ROOT=str(tmp / "media"))), url


def anna_profile(session):
    from sqlalchemy import select

    from webapp.models import UmsProfile

    return session.scalar(select(UmsProfile).where(UmsProfile.email_normalized == ANNA))


def analyse(engine, *tables: str) -> None:
    """On PostgreSQL, what autovacuum does for a real box after the bulk insert."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in tables:
                conn.exec_driver_sql(f"VACUUM ANALYZE {table}")


def time_requests(app, engine, cases: list[tuple[str, str, dict]], runs: int) -> None:
    """Sign in as Anna and print median / p95 / max milliseconds and the SQL count of each case."""
    from sqlalchemy import event

    client = app.test_client()
    response = client.post("/login", data={"email": ANNA, "password": "demo-user-2026"})
    assert response.status_code == 302
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    width = max(len(name) for name, _url, _headers in cases) + 2
    print(f"{'case':{width}} {'median':>8} {'p95':>8} {'max':>8} {'SQL':>4}")
    for name, url_path, headers in cases:
        client.get(url_path, headers=headers)  # warm up (template compile, caches)
        times = []
        for _ in range(runs):
            statements.clear()
            t0 = time.perf_counter()
            response = client.get(url_path, headers=headers)
            times.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, response.status_code
        times.sort()
        p95 = times[max(0, int(len(times) * 0.95) - 1)]
        print(f"{name:{width}} {statistics.median(times):7.1f}ms {p95:7.1f}ms {max(times):7.1f}ms "
              f"{len(statements):4d}")


def finish(engine, url: str) -> None:
    from tests import conftest

    engine.dispose()
    conftest.drop_database(url)
