"""Test harness.

The schema is built once per run by the Alembic migrations, on SQLite or, when
``TEST_DATABASE_URL`` is set, on a fresh PostgreSQL database; the demo data is loaded once.
Each test runs inside a transaction that is rolled back, so every test sees the demo data and
nothing else. Tests marked ``postgres`` commit for real on their own database.
"""

from __future__ import annotations

import contextvars
import os
import shutil
import uuid
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from flask.globals import _cv_app
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from webapp import create_app
from webapp.db import make_engine
from webapp.migrations import upgrade
from webapp.services import accounts

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")

# Argon2 at production cost takes about 0.2 s per hash or check; the suite signs in hundreds of
# times and hashes every demo password for each database it prepares.
accounts.use_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def _normalise(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def create_database(tmp_dir, name: str) -> str:
    """A new empty database: a file on SQLite, or ``<name>_<random>`` next to TEST_DATABASE_URL."""
    if not TEST_DATABASE_URL:
        return f"sqlite:///{tmp_dir / (name + '.db')}"
    base = make_url(_normalise(TEST_DATABASE_URL))
    db_name = f"ums_{name}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db_name}"'))
    admin.dispose()
    return base.set(database=db_name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    parsed = make_url(url)
    admin = create_engine(parsed.set(database=make_url(_normalise(TEST_DATABASE_URL)).database),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


# The demo's audio files, per prepared database; each test gets a copy of its own.
MEDIA_OF_DATABASE: dict = {}


def prepared_database(tmp_dir, name: str, demo: bool = True) -> str:
    """Create, migrate and (optionally) fill a database with the demo data."""
    url = create_database(tmp_dir, name)
    upgrade(url)
    media = tmp_dir / "media"
    MEDIA_OF_DATABASE[url] = media
    if demo:
        app = create_app(test_config(url, MEDIA_ROOT=str(media)))
        with app.app_context():
            from webapp.extensions import db
            from webapp.services import demo as demo_data

            demo_data.load(db.session)
            db.session.commit()
            db.engine.dispose()
    return url


def test_config(url: str, **overrides) -> dict:
    config = {
        "TESTING": True,
        "DATABASE_URL": url,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "HUEY_IMMEDIATE": True,
        "SMTP_HOST": None,
        "DEV_MAILBOX": True,
        "PLATFORM_ADAPTER": "simulator",
        "PLATFORM_SECRET": "test-platform-secret",
        "PUBLIC_BASE_URL": "http://localhost",
        "SERVER_NAME": None,
        "MEDIA_STORAGE": "local",
    }
    config.update(overrides)
    return config


class IsolatedClient(FlaskClient):
    """Each request gets an app context of its own, as in production, even though the test holds
    one open for its services (Flask would otherwise reuse it and share ``g`` between requests)."""

    def open(self, *args, **kwargs):
        def run():
            _cv_app.set(None)
            return FlaskClient.open(self, *args, **kwargs)

        return contextvars.copy_context().run(run)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    url = prepared_database(tmp_path_factory.mktemp("db"), "main")
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine):
    conn = engine.connect()
    outer = conn.begin()
    yield conn
    outer.rollback()
    conn.close()


@pytest.fixture
def app_config() -> dict:
    """Override per test module or test to change the app's configuration."""
    return {}


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server on a free loopback port, for the whole run."""
    from tests.s3server import S3Server

    server = S3Server().start()
    yield server
    server.stop()


@pytest.fixture
def media_config(request, tmp_path) -> dict:
    """The media store of this test's app: the local folder, or (``MEDIA_STORAGE=s3``) a prefix of
    its own on the test S3 server."""
    from tests.s3server import s3_selected

    if not s3_selected():
        return {}
    server = request.getfixturevalue("s3_server")
    prefix = f"t-{uuid.uuid4().hex[:12]}"
    return server.config(prefix)


@pytest.fixture
def app(database_url, connection, app_config, media_config, request, tmp_path):
    media = tmp_path / "media"
    if MEDIA_OF_DATABASE.get(database_url) and MEDIA_OF_DATABASE[database_url].exists():
        shutil.copytree(MEDIA_OF_DATABASE[database_url], media)
        if media_config:  # the demo's audio, in this test's place in the bucket
            request.getfixturevalue("s3_server").upload_folder(media, media_config["MEDIA_S3_PREFIX"])
    app = create_app(test_config(database_url, **{"MEDIA_ROOT": str(media), **media_config, **app_config}))
    state = app.extensions["db"]
    state.engine.dispose()
    state.engine = connection.engine
    state.factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                                 expire_on_commit=False)
    app.test_client_class = IsolatedClient
    with app.app_context():
        yield app


@pytest.fixture
def db_session(app) -> Session:
    from webapp.extensions import db

    return db.session


@pytest.fixture(scope="module")
def smtp():
    """A real SMTP server (aiosmtpd) for a test module: (controller, collector of received mail)."""
    from tests.mailserver import start_server

    controller, collector = start_server()
    yield controller, collector
    controller.stop()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(scope="module")
def pg_app(tmp_path_factory):
    """An app on a PostgreSQL database of its own that commits for real (one per test module),
    for tests of concurrent requests; skipped without TEST_DATABASE_URL."""
    if not TEST_DATABASE_URL:
        pytest.skip("needs TEST_DATABASE_URL (PostgreSQL)")
    tmp = tmp_path_factory.mktemp("pg")
    url = prepared_database(tmp, "conc")
    app = create_app(test_config(url, MEDIA_ROOT=str(tmp / "media")))
    yield app
    app.extensions["db"].engine.dispose()
    drop_database(url)


DEMO_PASSWORDS = {
    "anna.schmidt@muster.example": "demo-user-2026",
}


def login(client, email: str, password: str | None = None):
    password = password or DEMO_PASSWORDS.get(email, "demo-admin-2026")
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 302, f"login of {email} failed: {response.status_code}"
    return client


@pytest.fixture
def login_as(client):
    def _login(email: str, password: str | None = None):
        return login(client, email, password)

    return _login


HTMX = {"HX-Request": "true"}
