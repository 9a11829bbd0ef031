"""Health and readiness as a load balancer sees them."""

from __future__ import annotations

import time

from tests.conftest import test_config as make_config
from tests.s3server import free_port
from webapp import create_app


def test_ready_when_database_queue_and_store_answer(client):
    assert client.get("/healthz").json == {"status": "ok"}
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["checks"] == {"database": "ok", "queue": "ok", "storage": "ok"}


def test_healthz_answers_without_the_database_and_readyz_says_it_is_away(tmp_path):
    dead = f"postgresql+psycopg://ums@127.0.0.1:{free_port()}/ums"
    app = create_app(make_config(dead, MEDIA_ROOT=str(tmp_path / "media"), HUEY_IMMEDIATE=False,
                                 HUEY_SQLITE_PATH=str(tmp_path / "huey.db"), READY_TIMEOUT=3))
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    started = time.monotonic()
    response = client.get("/readyz")
    assert time.monotonic() - started < 4
    assert response.status_code == 503
    assert response.json["checks"]["database"].startswith("error")
    assert response.json["checks"]["queue"] == "ok" and response.json["checks"]["storage"] == "ok"


def test_readyz_says_when_redis_is_away(tmp_path, database_url):
    app = create_app(make_config(database_url, MEDIA_ROOT=str(tmp_path / "media"), HUEY_IMMEDIATE=False,
                                 REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["queue"].startswith("error") and response.json["checks"]["database"] == "ok"
