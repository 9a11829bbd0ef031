"""Models and migrations agree: a database built by the migrations has exactly the models' schema.

Fails when a model changes without a migration (or the other way round); also checks that the
history has one head and that every migration can be undone and redone.
"""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from tests.conftest import create_database, drop_database
from webapp.db import make_engine
from webapp.migrations import alembic_config, upgrade
from webapp.models import Base


@pytest.fixture
def empty_database(tmp_path):
    url = create_database(tmp_path, "migrations")
    yield url
    drop_database(url)


def schema_drift(url: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "render_as_batch": conn.dialect.name == "sqlite"}
            )
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_migration_history_has_a_single_head():
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, f"several migration heads, merge them: {heads}"


# Expression indexes cannot be reflected on SQLite, so autogenerate cannot compare them there;
# ``test_expression_indexes_are_built`` checks them by name on both databases instead.
EXPRESSION_INDEX_WARNINGS = (
    "ignore:Skipped unsupported reflection of expression-based index",
    "ignore:autogenerate skipping metadata-specified expression-based index",
)


@pytest.mark.filterwarnings(*EXPRESSION_INDEX_WARNINGS)
def test_migrations_build_exactly_the_models_schema(empty_database):
    upgrade(empty_database)
    drift = schema_drift(empty_database)
    assert drift == [], "models and migrations differ; add a migration:\n" + "\n".join(map(str, drift))


def test_expression_indexes_are_built(empty_database):
    from sqlalchemy import Column, text

    upgrade(empty_database)
    wanted = {index.name for table in Base.metadata.tables.values() for index in table.indexes
              if any(not isinstance(expression, Column) for expression in index.expressions)}
    assert "ix_ums_profiles_customer_lower_name" in wanted
    engine = make_engine(empty_database)
    try:
        with engine.connect() as conn:
            query = ("SELECT name FROM sqlite_master WHERE type = 'index'" if conn.dialect.name == "sqlite"
                     else "SELECT indexname FROM pg_indexes")
            built = set(conn.execute(text(query)).scalars())
    finally:
        engine.dispose()
    assert wanted <= built


@pytest.mark.filterwarnings(*EXPRESSION_INDEX_WARNINGS)
def test_every_migration_downgrades_and_upgrades_again(empty_database):
    upgrade(empty_database)
    assert tables(empty_database) == set(Base.metadata.tables)
    command.downgrade(alembic_config(empty_database), "base")
    assert tables(empty_database) == set()
    upgrade(empty_database)
    assert schema_drift(empty_database) == []
