"""HTTP benchmark: the portal's signed-in list fragments against a bare Flask app, both under gunicorn.

    .venv/bin/python scripts/bench_http.py                 # full run (about 8 minutes)
    .venv/bin/python scripts/bench_http.py --quick         # one short round (about 2 minutes)
    .venv/bin/python scripts/bench_http.py --baseline main # also the portal as of git ref `main`
    .venv/bin/python scripts/bench_http.py --uncached      # also the portal with its fragment cache off

For each database (SQLite in a temporary directory; PostgreSQL on a database of its own created
next to --pg-url and dropped afterwards) and each size (the demo data; the demo data plus 10,000
profiles and 100,000 voicemail messages), it starts `gunicorn -w N` with the portal and with a
bare Flask „hello“ on loopback ports, signs in (admin@muster.example for the profile list,
anna.schmidt@muster.example for her voicemail list), and then drives each page and the bare app
alternately with the same load: wrk with 16 connections where installed, else a Python load
generator with as many keep-alive connections. It prints requests per second, p50 and p99 latency
and the ratio portal/bare per page (medians over the rounds), and with --json writes them down.

Method and results: docs/performance.md.
"""

from __future__ import annotations

import argparse
import http.client
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from dataclasses import asdict, dataclass
from multiprocessing import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

SECRET = "bench-secret-key"
ADMIN = ("admin@muster.example", "demo-admin-2026")
ANNA = ("anna.schmidt@muster.example", "demo-user-2026")
BARE_APP = '''from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "hello"
'''


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int = 0


@dataclass
class Page:
    name: str
    path: str  # may contain {profile}
    login: tuple[str, str]
    marker: str  # text the answer must contain (signed in, right page)


PAGES = [
    Page("profile list /ums (htmx)", "/ums", ADMIN, 'id="profile-list"'),
    Page("voicemail list (htmx)", "/profiles/{profile}/voicemail", ANNA, 'id="vm-messages"'),
    Page("fax list (htmx)", "/profiles/{profile}/fax", ANNA, 'id="fax-received"'),
]
HTMX = {"HX-Request": "true"}
UNCACHED = "portal, no cache"  # the same tree with the fragment cache off (--uncached)


# --- databases -------------------------------------------------------------------------------


def create_database(kind: str, tmp: Path, pg_url: str, name: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp / (name + '.db')}"
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(pg_url)
    db_name = f"ums_bench_{name}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db_name}"'))
    admin.dispose()
    return base.set(database=db_name).render_as_string(hide_password=False)


def drop_database(url: str, pg_url: str) -> None:
    if not url.startswith("postgresql"):
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(make_url(pg_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def seed(url: str, media: Path, profiles: int, messages: int) -> tuple[int, str]:
    """Migrate, load the demo data and the bulk rows; returns (Anna's profile id, what was done)."""
    import bench_data
    from argon2 import PasswordHasher

    from webapp import create_app
    from webapp.extensions import db
    from webapp.migrations import upgrade
    from webapp.services import accounts, demo

    # The demo logins hash cheaply: the benchmark signs in once per server, it measures the pages.
    accounts.use_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    started = time.perf_counter()
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, "MEDIA_ROOT": str(media), "TESTING": True,
                      "HUEY_IMMEDIATE": True, "SMTP_HOST": None})
    with app.app_context():
        session = db.session
        demo.load(session)
        session.commit()
        if profiles:
            bench_data.add_profiles(session, profiles)
        profile_id = bench_data.add_messages(session, messages) if messages else None
        if profile_id is None:
            from sqlalchemy import select

            from webapp.models import UmsProfile

            profile_id = session.scalar(select(UmsProfile.id).where(UmsProfile.email_normalized == ANNA[0]))
        session.commit()
        bench_data.analyze(db.engine)
        db.engine.dispose()
    return profile_id, f"{time.perf_counter() - started:.1f} s"


# --- servers ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One gunicorn, in a process group of its own (stopped by its id)."""

    def __init__(self, name: str, app_spec: str, cwd: Path, env: dict, workers: int, log: Path):
        self.name, self.port = name, free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{self.port}",
             "--log-level", "warning", app_spec],
            cwd=cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{name} did not start, see {log}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{name} did not answer within 60 s, see {log}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def portal_env(tree: Path, url: str, instance: Path, media: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "PRODUCTION", "SMTP_HOST", "FRAGMENT_CACHE_SIZE"}}
    env.update({"DATABASE_URL": url, "SECRET_KEY": SECRET, "UMS_INSTANCE_PATH": str(instance),
                "MEDIA_ROOT": str(media), "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"})
    instance.mkdir(parents=True, exist_ok=True)
    return env


def sign_in(base: str, email: str, password: str) -> str:
    """Sign in through the login form (CSRF token included); returns the Cookie header."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(base + "/login", timeout=30).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    form = {"email": email, "password": password, "csrf_token": token.group(1) if token else ""}
    opener.open(base + "/login", urllib.parse.urlencode(form).encode(), timeout=30).read()
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    if "session" not in cookie:
        raise RuntimeError(f"sign-in of {email} at {base} failed")
    return cookie


def fetch(url: str, headers: dict) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


# --- load ------------------------------------------------------------------------------------


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def drive_wrk(url: str, headers: dict, connections: int, seconds: float) -> Result:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{max(int(seconds), 1)}s", "--latency", "--timeout", "10s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    failed = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(bad.group(1)) if bad else 0) + (sum(map(int, failed.groups())) - int(failed.group(2))
                                                   if failed else 0)
    return Result(rps, p50, p99, errors)


def _python_worker(args) -> tuple[int, list[float], int]:
    host, port, path, headers, connections, seconds = args
    latencies: list[float] = []
    errors = [0]
    deadline = time.monotonic() + seconds
    lock = threading.Lock()

    def run():
        conn = None
        mine = []
        while time.monotonic() < deadline:
            if conn is None:
                conn = http.client.HTTPConnection(host, port, timeout=10)
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status >= 400:
                    errors[0] += 1
                if response.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                errors[0] += 1
                conn = None
                continue
            mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(latencies), latencies, errors[0]


def drive_python(url: str, headers: dict, connections: int, seconds: float) -> Result:
    """Fallback without wrk: keep-alive connections on threads in two processes."""
    parts = urllib.parse.urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    processes = 2
    jobs = [(parts.hostname, parts.port, path, headers, connections // processes + (i < connections % processes),
             seconds) for i in range(processes)]
    with Pool(processes) as pool:
        results = pool.map(_python_worker, jobs)
    latencies = sorted(x for _n, lat, _e in results for x in lat)
    if not latencies:
        return Result(0, 0, 0, sum(e for *_r, e in results))
    return Result(len(latencies) / seconds, latencies[len(latencies) // 2],
                  latencies[min(int(len(latencies) * 0.99), len(latencies) - 1)], sum(e for *_r, e in results))


# --- the run ---------------------------------------------------------------------------------


def export_tree(ref: str, into: Path) -> Path:
    """The portal as of git ``ref``, exported (git archive) without touching any work tree."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", ref],
                             capture_output=True, check=True).stdout
    into.mkdir(parents=True)
    tar = into.with_suffix(".tar")
    tar.write_bytes(archive)
    with tarfile.open(tar) as t:
        t.extractall(into, filter="data")
    tar.unlink()
    return into


def median_result(results: list[Result]) -> Result:
    return Result(statistics.median(r.rps for r in results), statistics.median(r.p50_ms for r in results),
                  statistics.median(r.p99_ms for r in results), sum(r.errors for r in results))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 round of 3 s per measurement (under 3 minutes)")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--sizes", default="demo,large")
    parser.add_argument("--profiles", type=int, default=10_000, help="extra profiles at size 'large'")
    parser.add_argument("--messages", type=int, default=100_000, help="Anna's messages at size 'large'")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=None, help="per measurement (default 8, quick 3)")
    parser.add_argument("--rounds", type=int, default=None, help="default 3, quick 1")
    parser.add_argument("--baseline", metavar="GIT_REF", help="also measure the portal as of this git ref")
    parser.add_argument("--uncached", action="store_true",
                        help="also measure the portal with its fragment cache off (FRAGMENT_CACHE_SIZE=0)")
    parser.add_argument("--portal-ref", metavar="GIT_REF",
                        help="measure the portal as of this git ref instead of the work tree")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--load", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    seconds = args.seconds or (3 if args.quick else 8)
    rounds = args.rounds or (1 if args.quick else 3)
    use_wrk = args.load == "wrk" or (args.load == "auto" and shutil.which("wrk"))
    drive = drive_wrk if use_wrk else drive_python
    sizes = {"demo": (0, 0), "large": (args.profiles, args.messages)}

    tmp = Path(tempfile.mkdtemp(prefix="bench-http-"))
    (tmp / "bare").mkdir()
    (tmp / "bare" / "bench_bare.py").write_text(BARE_APP)
    # the bare app runs with the portal's gunicorn settings (read from the working directory)
    if (ROOT / "gunicorn.conf.py").exists():
        shutil.copy(ROOT / "gunicorn.conf.py", tmp / "bare" / "gunicorn.conf.py")
    trees = {"portal": export_tree(args.portal_ref, tmp / "portal") if args.portal_ref else ROOT}
    if args.uncached:
        trees[UNCACHED] = trees["portal"]
    if args.baseline:
        trees[f"portal@{args.baseline}"] = export_tree(args.baseline, tmp / "baseline")
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    print(f"bench_http: {args.portal_ref or commit + ('+changes' if _dirty() else '')}, gunicorn -w {args.workers}, "
          f"{args.connections} connections, {rounds} round(s) of {seconds:g} s, "
          f"load by {'wrk' if use_wrk else 'Python'}, {os.cpu_count()} CPUs, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    report = {"commit": commit, "workers": args.workers, "connections": args.connections, "rounds": rounds,
              "seconds": seconds, "load": "wrk" if use_wrk else "python", "cpus": os.cpu_count(),
              "loadavg_start": os.getloadavg(), "results": []}
    started = time.monotonic()
    try:
        for kind in args.databases.split(","):
            for size in args.sizes.split(","):
                run_one(kind, size, sizes[size], args, tmp, trees, drive, seconds, rounds, report)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report["loadavg_end"] = os.getloadavg()
    report["minutes"] = round((time.monotonic() - started) / 60, 1)
    print(f"done in {report['minutes']} min, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    print()
    print(markdown(report))
    return 0


def markdown(report: dict) -> str:
    """The results as the table of docs/performance.md."""
    lines = ["| database | data | page | server | req/s | p50 ms | p99 ms | bare req/s | portal/bare |",
             "|---|---|---|---|---:|---:|---:|---:|---:|"]
    for r in report["results"]:
        data = "demo" if r["size"] == "demo" else "10k profiles / 100k messages"
        lines.append(f"| {r['database']} | {data} | {r['page']} | {r['server']} | {r['rps']:.0f} | "
                     f"{r['p50_ms']:.0f} | {r['p99_ms']:.0f} | {r['bare']['rps']:.0f} | {r['ratio']:.3f} |")
    return "\n".join(lines)


def _dirty() -> bool:
    return bool(subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip())


def run_one(kind, size, counts, args, tmp, trees, drive, seconds, rounds, report) -> None:
    name = f"{kind}-{size}"
    url = create_database(kind, tmp, args.pg_url, name.replace("-", "_"))
    media = tmp / f"media-{name}"
    servers: list[Server] = []
    try:
        profile_id, took = seed(url, media, *counts)
        label = "demo data" if size == "demo" else f"demo + {counts[0]:,} profiles, {counts[1]:,} messages"
        print(f"\n== {kind}, {label} (seeded in {took})", flush=True)
        bare = Server("bare", "bench_bare:app", tmp / "bare", {**os.environ, "PYTHONPATH": str(tmp / "bare")},
                      args.workers, tmp / f"{name}-bare.log")
        servers.append(bare)
        portals = {}
        for tree_name, tree in trees.items():
            env = portal_env(tree, url, tmp / f"instance-{name}-{len(portals)}", media)
            if tree_name == UNCACHED:
                env["FRAGMENT_CACHE_SIZE"] = "0"
            server = Server(tree_name, "webapp:create_app()", tree, env, args.workers,
                            tmp / f"{name}-{len(portals)}.log")
            servers.append(server)
            portals[tree_name] = server
        cookies = {(server.name, page.login): sign_in(server.base, *page.login)
                   for server in portals.values() for page in PAGES}
        targets = []
        for page in PAGES:
            path = page.path.format(profile=profile_id)
            for server in portals.values():
                headers = {**HTMX, "Cookie": cookies[(server.name, page.login)]}
                status, body = fetch(server.base + path, headers)
                if status != 200 or page.marker not in body:
                    if server is not portals.get("portal"):  # a baseline from before this page existed
                        print(f"({server.name} has no {page.name}: {status}; not measured)", flush=True)
                        continue
                    raise RuntimeError(f"{server.name} {path}: {status}, not the page (signed in?)")
                for _ in range(10 * args.workers):  # warm every worker (templates, caches)
                    fetch(server.base + path, headers)
                targets.append((page, server, server.base + path, headers))
        for _ in range(10 * args.workers):
            fetch(bare.base + "/", {})
        measured: dict[tuple[str, str], list[Result]] = {}
        for _round in range(rounds):
            for page in PAGES:
                measured.setdefault((page.name, "bare"), []).append(drive(bare.base + "/", {}, args.connections,
                                                                          seconds))
                for target_page, server, target_url, headers in targets:
                    if target_page is page:
                        measured.setdefault((page.name, server.name), []).append(
                            drive(target_url, headers, args.connections, seconds))
        print(f"{'page':28} {'server':16} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'bare req/s':>10} "
              f"{'ratio':>6} {'errors':>6}")
        for page in PAGES:
            bare_result = median_result(measured[(page.name, "bare")])
            for server in portals.values():
                if (page.name, server.name) not in measured:
                    continue
                result = median_result(measured[(page.name, server.name)])
                ratio = result.rps / bare_result.rps if bare_result.rps else 0
                print(f"{page.name:28} {server.name:16} {result.rps:8.0f} {result.p50_ms:8.1f} "
                      f"{result.p99_ms:8.1f} {bare_result.rps:10.0f} {ratio:6.3f} {result.errors:6d}", flush=True)
                report["results"].append({"database": kind, "size": size, "page": page.name,
                                          "server": server.name, **asdict(result),
                                          "bare": asdict(bare_result), "ratio": round(ratio, 4)})
    finally:
        for server in servers:
            server.stop()
        drop_database(url, args.pg_url)


if __name__ == "__main__":
    sys.exit(main())
