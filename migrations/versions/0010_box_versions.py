"""box versions

A counter per profile and box (voicemail messages, received faxes), counted up by a trigger on
every INSERT, UPDATE and DELETE of the box's rows: the key of the list pages' fragment cache
(webapp/fragments.py). A trigger, not the services, so that no code path that writes (deposits,
bulk actions, jobs, purges, the demo loader) can forget it. A DELETE only counts up a row that
exists: when a profile is deleted its rows cascade, and a new counter row would refer to it.
PostgreSQL counts once per statement (transition tables), SQLite once per row (it has no
statement triggers; it updates the counter row in place).

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

BOXES = {"voicemail": "voicemail_messages", "fax": "fax_received"}


def upgrade() -> None:
    op.create_table(
        'box_versions',
        sa.Column('profile_id', sa.Integer(), nullable=False),
        sa.Column('box', sa.String(length=20), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['profile_id'], ['ums_profiles.id'], name=op.f('fk_box_versions_profile_id_ums_profiles'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('profile_id', 'box', name=op.f('pk_box_versions')),
    )
    for box, table in BOXES.items():
        op.execute(f"INSERT INTO box_versions (profile_id, box, version) "
                   f"SELECT DISTINCT profile_id, '{box}', 1 FROM {table}")
    if op.get_bind().dialect.name == "postgresql":
        # Once per statement, over its transition table: a row trigger would update the same
        # counter row once per row, and 100,000 rows in one statement (a bulk load, a profile's
        # deletion) would then take minutes.
        op.execute("""
            CREATE FUNCTION count_box_versions() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO box_versions (profile_id, box, version)
                SELECT DISTINCT profile_id, TG_ARGV[0], 1 FROM changed_rows
                ON CONFLICT (profile_id, box) DO UPDATE SET version = box_versions.version + 1;
                RETURN NULL;
            END $$""")
        op.execute("""
            CREATE FUNCTION count_box_versions_of_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE box_versions SET version = version + 1
                 WHERE box = TG_ARGV[0] AND profile_id IN (SELECT profile_id FROM changed_rows);
                RETURN NULL;
            END $$""")
        for box, table in BOXES.items():
            for event, rows, function in (("INSERT", "NEW", "count_box_versions"),
                                          ("UPDATE", "NEW", "count_box_versions"),
                                          ("DELETE", "OLD", "count_box_versions_of_deleted")):
                op.execute(f"CREATE TRIGGER {table}_box_version_{event.lower()} AFTER {event} ON {table} "
                           f"REFERENCING {rows} TABLE AS changed_rows "
                           f"FOR EACH STATEMENT EXECUTE FUNCTION {function}('{box}')")
        return
    for box, table in BOXES.items():
        for event in ("INSERT", "UPDATE"):
            op.execute(f"""
                CREATE TRIGGER {table}_box_version_{event.lower()} AFTER {event} ON {table}
                BEGIN
                    INSERT INTO box_versions (profile_id, box, version) VALUES (NEW.profile_id, '{box}', 1)
                    ON CONFLICT (profile_id, box) DO UPDATE SET version = version + 1;
                END""")
        op.execute(f"""
            CREATE TRIGGER {table}_box_version_delete AFTER DELETE ON {table}
            BEGIN
                UPDATE box_versions SET version = version + 1 WHERE profile_id = OLD.profile_id AND box = '{box}';
            END""")


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in BOXES.values():
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER {table}_box_version_{event}" + (f" ON {table}" if postgresql else ""))
    if postgresql:
        op.execute("DROP FUNCTION count_box_versions()")
        op.execute("DROP FUNCTION count_box_versions_of_deleted()")
    op.drop_table('box_versions')
