"""box versions

A row per profile and box (voicemail messages, received faxes) that triggers keep in step with
every INSERT, UPDATE and DELETE of the box's rows: its version (counted up with every change: the
key of the list pages' fragment cache, webapp/fragments.py) and the box's counts (items not
deleted, and of those the unread ones: the list's total and new count without counting 100,000
rows). Triggers, not the services, so that no code path that writes (deposits, bulk actions,
jobs, purges, the demo loader) can forget them. A DELETE only changes a row that exists: when a
profile is deleted its rows cascade, and a new row would refer to it. PostgreSQL keeps them once
per statement (transition tables), SQLite once per row (it has no statement triggers; it updates
the row in place).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# box: (table, the column that is empty while an item is unread)
BOXES = {"voicemail": ("voicemail_messages", "heard_at"), "fax": ("fax_received", "read_at")}
EVENTS = ("insert", "update", "delete")


def upgrade() -> None:
    op.create_table(
        'box_versions',
        sa.Column('profile_id', sa.Integer(), nullable=False),
        sa.Column('box', sa.String(length=20), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('unread', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['profile_id'], ['ums_profiles.id'], name=op.f('fk_box_versions_profile_id_ums_profiles'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('profile_id', 'box', name=op.f('pk_box_versions')),
    )
    for box, (table, unread) in BOXES.items():
        op.execute(f"INSERT INTO box_versions (profile_id, box, version, total, unread) "
                   f"SELECT profile_id, '{box}', 1, "
                   f"SUM(CASE WHEN deleted_at IS NULL THEN 1 ELSE 0 END), "
                   f"SUM(CASE WHEN deleted_at IS NULL AND {unread} IS NULL THEN 1 ELSE 0 END) "
                   f"FROM {table} GROUP BY profile_id")
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()


def _postgresql_triggers() -> None:
    """Once per statement, over its transition tables: a row trigger would update the same row once
    per row, and 100,000 rows in one statement (a bulk load, a profile's deletion) would then
    exceed the statement timeout (PostgreSQL keeps every version of that row until the end)."""
    add = ("ON CONFLICT (profile_id, box) DO UPDATE SET version = box_versions.version + 1, "
           "total = box_versions.total + EXCLUDED.total, unread = box_versions.unread + EXCLUDED.unread")
    for box, (table, unread) in BOXES.items():
        counted = f"(deleted_at IS NULL)::int AS total, (deleted_at IS NULL AND {unread} IS NULL)::int AS unread"
        bodies = {
            "insert": f"INSERT INTO box_versions (profile_id, box, version, total, unread) "
                      f"SELECT profile_id, '{box}', 1, SUM(total), SUM(unread) "
                      f"FROM (SELECT profile_id, {counted} FROM new_rows) AS d GROUP BY profile_id {add}",
            "update": f"INSERT INTO box_versions (profile_id, box, version, total, unread) "
                      f"SELECT profile_id, '{box}', 1, SUM(total), SUM(unread) FROM ("
                      f"SELECT profile_id, {counted} FROM new_rows UNION ALL "
                      f"SELECT profile_id, -(deleted_at IS NULL)::int, -(deleted_at IS NULL AND {unread} IS NULL)::int "
                      f"FROM old_rows) AS d GROUP BY profile_id {add}",
            "delete": f"UPDATE box_versions AS b SET version = b.version + 1, total = b.total - d.total, "
                      f"unread = b.unread - d.unread FROM (SELECT profile_id, SUM(total) AS total, "
                      f"SUM(unread) AS unread FROM (SELECT profile_id, {counted} FROM old_rows) AS r "
                      f"GROUP BY profile_id) AS d WHERE b.box = '{box}' AND b.profile_id = d.profile_id",
        }
        tables = {"insert": "NEW TABLE AS new_rows", "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
                  "delete": "OLD TABLE AS old_rows"}
        for event in EVENTS:
            op.execute(f"CREATE FUNCTION {table}_box_{event}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                       f"BEGIN {bodies[event]}; RETURN NULL; END $$")
            op.execute(f"CREATE TRIGGER {table}_box_version_{event} AFTER {event.upper()} ON {table} "
                       f"REFERENCING {tables[event]} FOR EACH STATEMENT EXECUTE FUNCTION {table}_box_{event}()")


def _sqlite_triggers() -> None:
    add = ("ON CONFLICT (profile_id, box) DO UPDATE SET version = version + 1, "
           "total = total + excluded.total, unread = unread + excluded.unread")
    for box, (table, unread) in BOXES.items():
        new_total, new_unread = "(NEW.deleted_at IS NULL)", f"(NEW.deleted_at IS NULL AND NEW.{unread} IS NULL)"
        old_total, old_unread = "(OLD.deleted_at IS NULL)", f"(OLD.deleted_at IS NULL AND OLD.{unread} IS NULL)"
        bodies = {
            "insert": f"INSERT INTO box_versions (profile_id, box, version, total, unread) "
                      f"VALUES (NEW.profile_id, '{box}', 1, {new_total}, {new_unread}) {add}",
            "update": f"INSERT INTO box_versions (profile_id, box, version, total, unread) "
                      f"VALUES (NEW.profile_id, '{box}', 1, {new_total} - {old_total}, {new_unread} - {old_unread}) {add}",
            "delete": f"UPDATE box_versions SET version = version + 1, total = total - {old_total}, "
                      f"unread = unread - {old_unread} WHERE profile_id = OLD.profile_id AND box = '{box}'",
        }
        for event in EVENTS:
            op.execute(f"CREATE TRIGGER {table}_box_version_{event} AFTER {event.upper()} ON {table} "
                       f"BEGIN {bodies[event]}; END")


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table, _unread in BOXES.values():
        for event in EVENTS:
            op.execute(f"DROP TRIGGER {table}_box_version_{event}" + (f" ON {table}" if postgresql else ""))
            if postgresql:
                op.execute(f"DROP FUNCTION {table}_box_{event}()")
    op.drop_table('box_versions')
