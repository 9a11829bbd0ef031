"""The outbox relay's bookkeeping (next attempt, claim, failing since) and the signatures of
accepted API requests (replay protection).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 00:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

RELAY_COLUMNS = ("next_attempt_at", "claimed_until", "failing_since")


def upgrade() -> None:
    op.create_table(
        "api_request_signatures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("signature", sa.String(length=100), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_request_signatures")),
        sa.UniqueConstraint("signature", name=op.f("uq_api_request_signatures_signature")),
    )
    op.create_index(op.f("ix_api_request_signatures_seen_at"), "api_request_signatures", ["seen_at"])
    for table in ("mail_messages", "platform_events"):
        with op.batch_alter_table(table) as batch:
            for column in RELAY_COLUMNS:
                batch.add_column(sa.Column(column, sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for table in ("mail_messages", "platform_events"):
        with op.batch_alter_table(table) as batch:
            for column in reversed(RELAY_COLUMNS):
                batch.drop_column(column)
    op.drop_index(op.f("ix_api_request_signatures_seen_at"), table_name="api_request_signatures")
    op.drop_table("api_request_signatures")
