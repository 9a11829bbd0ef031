"""Several nodes on one PostgreSQL, Redis and S3 store: two portal processes under gunicorn on
different loopback ports, two queue consumers, moto's S3 server and a real SMTP server.

Skipped without TEST_DATABASE_URL (CI's PostgreSQL pass runs it) or without Redis.
"""

from __future__ import annotations

import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from tests.conftest import TEST_DATABASE_URL, drop_database, prepared_database
from tests.mailserver import start_server
from tests.parallel import run_at_once
from tests.s3server import BUCKET, S3Server, free_port
from tests.services.test_audio import tone

pytestmark = pytest.mark.postgres

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SECRET = "multinode-platform-secret"
ANNA_NUMBER = "+4930123456711"
BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class Cluster:
    def __init__(self, tmp: Path, s3: S3Server):
        self.tmp = tmp
        self.processes: dict[str, subprocess.Popen] = {}
        self.s3 = s3
        self.smtp, self.mails = start_server()
        self.prefix = f"multi-{uuid.uuid4().hex[:8]}"
        self.db_url = prepared_database(tmp, "multinode")
        self.s3.upload_folder(tmp / "media", self.prefix)  # the demo's audio, as after `flask media migrate`
        self.engine = create_engine(self.db_url)
        self.env = {
            **os.environ,
            "DATABASE_URL": self.db_url, "REDIS_URL": REDIS_URL, "HUEY_NAME": f"ums-{self.prefix}",
            "SECRET_KEY": "multinode-secret", "PLATFORM_SECRET": SECRET, "UMS_INSTANCE_PATH": str(tmp / "instance"),
            "MEDIA_STORAGE": "s3", "MEDIA_S3_BUCKET": BUCKET, "MEDIA_S3_PREFIX": self.prefix,
            "MEDIA_S3_ENDPOINT_URL": self.s3.endpoint, "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "eu-central-1",
            "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(self.smtp.port), "PUBLIC_BASE_URL": "http://127.0.0.1",
            "HUEY_IMMEDIATE": "0", "DEV_MAILBOX": "0", "FLASK_APP": "webapp",
        }
        self.nodes: dict[str, str] = {}

    def _start(self, name: str, args: list[str]) -> None:
        log = open(self.tmp / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        self.processes[name] = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                                start_new_session=True)

    def start(self) -> None:
        for name in ("a", "b"):
            port = free_port()
            self.nodes[name] = f"http://127.0.0.1:{port}"
            self._start(f"node-{name}", [str(BIN / "gunicorn"), "-b", f"127.0.0.1:{port}", "-w", "2", "-k", "gthread",
                                         "--threads", "4", "--graceful-timeout", "2", "webapp:create_app()"])
        for name in ("1", "2"):
            self._start(f"consumer-{name}", [str(BIN / "huey_consumer"), "webapp.worker.huey", "-w", "2", "-k",
                                             "thread", "-q"])
        import requests

        for url in self.nodes.values():
            _wait(lambda url=url: _get_ok(requests, url + "/readyz"), 60, f"{url}/readyz")

    def kill(self, name: str) -> None:
        process = self.processes[name]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        self.engine.dispose()
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        leftovers = list(client.scan_iter(f"*{self.env['HUEY_NAME']}*"))  # this run's queue keys
        if leftovers:
            client.delete(*leftovers)
        self.smtp.stop()
        drop_database(self.db_url)

    def objects(self) -> set[str]:
        listing = self.s3.client().get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=self.prefix + "/")
        return {o["Key"][len(self.prefix) + 1:] for page in listing for o in page.get("Contents", [])}

    def count(self, pattern: str) -> int:
        from webapp.models import VoicemailMessage

        with self.engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(VoicemailMessage)
                               .where(VoicemailMessage.platform_message_id.like(pattern)))

    def notified_message_ids(self) -> list[int]:
        ids = []
        for message in self.mails.messages():
            text = message.get_body(("plain",)).get_content()
            ids += [int(m) for m in re.findall(r"vm-msg-(\d+)", text)[:1]]
        return ids


def _get_ok(requests, url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, request):
    if not TEST_DATABASE_URL:
        pytest.skip("needs TEST_DATABASE_URL (PostgreSQL)")
    if not _redis_up():
        pytest.skip(f"needs Redis at {REDIS_URL}")
    cluster = Cluster(tmp_path_factory.mktemp("multinode"), request.getfixturevalue("s3_server"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def _deposit_request(url: str, message_id: str, audio: bytes, caller: str = "+4940123456789"):
    import requests

    from webapp.services import platform

    prepared = requests.Request("POST", url + "/api/v1/voicemail/messages", data={
        "called": ANNA_NUMBER, "caller": caller, "platform_message_id": message_id,
    }, files={"audio": ("message.wav", audio, "audio/wav")}).prepare()
    ts = str(int(time.time()))
    prepared.headers[platform.TIMESTAMP_HEADER] = ts
    prepared.headers[platform.SIGNATURE_HEADER] = platform.sign(SECRET, ts, prepared.body)
    return prepared


def _send(prepared):
    import requests

    with requests.Session() as session:
        return session.send(prepared, timeout=60)


def test_many_nodes_share_media_mail_and_deposits(cluster):
    import av
    import requests

    from webapp.models import (
        GreetingKind,
        GreetingStatus,
        UmsProfile,
        User,
        VoicemailGreeting,
        VoicemailMessage,
    )

    node_a, node_b = cluster.nodes["a"], cluster.nodes["b"]
    with cluster.engine.connect() as conn:
        profile_id = conn.scalar(select(UmsProfile.id).join(User, UmsProfile.user_id == User.id)
                                 .where(User.email == "anna.schmidt@muster.example"))

    # --- a greeting uploaded on node A plays, with Range, on node B ---------------------------
    browser = requests.Session()  # the signed session cookie is valid on every node
    login_page = browser.get(node_a + "/login")
    signed_in = browser.post(node_a + "/login", allow_redirects=False, data={
        "email": "anna.schmidt@muster.example", "password": "demo-user-2026", "csrf_token": _csrf(login_page.text)})
    assert signed_in.status_code == 302, signed_in.text
    page = browser.get(f"{node_a}/profiles/{profile_id}/voicemail/greetings")
    uploaded = browser.post(f"{node_a}/profiles/{profile_id}/voicemail/greetings/busy", allow_redirects=False,
                            data={"source": "upload", "csrf_token": _csrf(page.text)},
                            files={"file": ("ansage.wav", tone("wav", 2.0), "audio/wav")})
    assert uploaded.status_code in {200, 302, 303}, uploaded.text
    with cluster.engine.connect() as conn:
        greeting_id = conn.scalar(select(VoicemailGreeting.id).where(
            VoicemailGreeting.profile_id == profile_id, VoicemailGreeting.kind == GreetingKind.BUSY,
            VoicemailGreeting.status == GreetingStatus.DRAFT))
    audio_url = f"{node_b}/profiles/{profile_id}/voicemail/greetings/{greeting_id}/audio"
    part = browser.get(audio_url, headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.content) == 100
    total = int(part.headers["Content-Range"].rsplit("/", 1)[1])
    whole = browser.get(audio_url)
    assert whole.status_code == 200 and len(whole.content) == total and whole.content[:100] == part.content
    with av.open(io.BytesIO(whole.content)) as container:
        assert float(container.duration / 1_000_000) == pytest.approx(2.0, abs=0.3)

    # --- a deposit through node B notifies by mail once ---------------------------------------
    first = _send(_deposit_request(node_b, "multi-first", tone("wav", 1.0)))
    assert first.status_code == 201, first.text
    first_id = first.json()["id"]
    _wait(lambda: first_id in cluster.notified_message_ids(), 30, "the notification mail")

    # --- 20 messages, each sent to both nodes at the same moment, are stored once -------------
    audio = tone("wav", 1.0)
    requests_ = [_deposit_request(cluster.nodes["ab"[n % 2]], f"multi-par-{n // 2}", audio,
                                  caller=f"+49401234567{n // 2:02d}") for n in range(40)]
    answers = run_at_once(40, lambda n: _send(requests_[n]), timeout=120)
    assert all(r is not None and r.status_code in {200, 201} for r in answers), \
        [r.status_code if r is not None else None for r in answers]
    created = sorted(r.json()["id"] for r in answers if r.status_code == 201)
    assert len(created) == 20 and len(set(created)) == 20
    for n in range(20):
        assert len({r.json()["id"] for r in answers[2 * n:2 * n + 2]}) == 1  # both nodes name the same message

    # --- a node killed mid-upload leaves nothing visible --------------------------------------
    half = _deposit_request(node_a, "multi-killed", tone("wav", 3.0))
    port = int(node_a.rsplit(":", 1)[1])
    head = (f"POST /api/v1/voicemail/messages HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in half.headers.items()) + "\r\n").encode()
    with socket.create_connection(("127.0.0.1", port)) as raw:
        raw.sendall(head + half.body[: len(half.body) // 2])
        in_flight = [_deposit_request(node_a, f"multi-flight-{n}", audio) for n in range(6)]
        import threading

        threads = [threading.Thread(target=lambda p=p: _safe_send(p)) for p in in_flight]
        for thread in threads:
            thread.start()
        _wait(lambda: cluster.count("multi-flight-%") >= 1, 30, "the first of the in-flight deposits")
        cluster.kill("node-a")  # while the others are being received, converted or stored
    for thread in threads:
        thread.join(30)

    with cluster.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(VoicemailMessage)
                           .where(VoicemailMessage.platform_message_id == "multi-killed")) == 0
        rows = conn.execute(select(VoicemailMessage.id, VoicemailMessage.audio_key)
                            .where(VoicemailMessage.profile_id == profile_id)).all()
        greeting_keys = set(conn.scalars(select(VoicemailGreeting.audio_key)))
    for message_id, _key in rows:  # every stored message plays (a move cut off by the kill is finished)
        download = browser.get(f"{node_b}/profiles/{profile_id}/voicemail/messages/{message_id}/download")
        assert download.status_code == 200 and download.content[:4] == b"RIFF", message_id
    objects = cluster.objects()
    visible = {k for k in objects if not k.startswith(".staging/")}
    assert {key for _id, key in rows} <= visible
    referenced_stems = {k.rsplit(".", 1)[0] for k in {key for _id, key in rows} | greeting_keys}
    voicemail_files = {k for k in visible if k.startswith("voicemail/")}  # the demo's faxes and recording aside
    assert {k for k in voicemail_files if k.rsplit(".", 1)[0] not in referenced_stems} == set()  # no file without a row

    # the sweep (here on demand; the consumers run it hourly) removes temporaries of cut-off writes
    swept = subprocess.run([str(BIN / "flask"), "media", "sweep", "--grace-minutes", "0"], cwd=ROOT, env=cluster.env,
                           capture_output=True, text=True, timeout=60)
    assert swept.returncode == 0, swept.stderr
    assert not any(k.startswith(".staging/") for k in cluster.objects())

    # every message stored before the kill was mailed, and none twice
    expected = {first_id, *created}
    _wait(lambda: set(cluster.notified_message_ids()) >= expected, 30, "a mail for every message")
    notified = cluster.notified_message_ids()
    assert len(notified) == len(set(notified)), "a message was mailed twice"
    assert set(notified) <= {i for i, _key in rows}


def _safe_send(prepared):
    import requests

    try:
        return _send(prepared)
    except requests.RequestException:
        return None
