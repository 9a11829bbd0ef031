"""Ordering (Bestellsystem): catalogue columns, undoable cart lines, order snapshots and states,
child lines that carry their trunk's term, licences and contracts traced to their order line.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 00:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OLD_KINDS = ("sip_trunk", "sip_bundle", "ums_package")
NEW_KINDS = (*OLD_KINDS, "voice_channels")
OLD_STATES = ("placed", "provisioned")
NEW_STATES = (*OLD_STATES, "refused")


def _enum(values, name):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _line_constraints(batch_op, table: str) -> None:
    batch_op.alter_column("product_id", existing_type=sa.Integer(), nullable=True)
    batch_op.create_check_constraint("product_or_contract", "product_id IS NOT NULL OR contract_id IS NOT NULL")
    batch_op.create_check_constraint("child_has_term", "parent_id IS NULL OR min_term_months IS NOT NULL")
    batch_op.create_unique_constraint(f"uq_{table}_id_term", ["id", "min_term_months"])
    batch_op.create_foreign_key(f"fk_{table}_parent_term", table, ["parent_id", "min_term_months"],
                                ["id", "min_term_months"], onupdate="CASCADE", ondelete="CASCADE")


def _change_enum(table: str, column: str, name: str, old, new) -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(column, existing_type=_enum(old, name), type_=_enum(new, name),
                                  existing_nullable=False)
    else:
        op.drop_constraint(op.f(f"ck_{table}_{name}"), table, type_="check")
        values = ", ".join(f"'{v}'" for v in new)
        op.create_check_constraint(name, table, f"{column} IN ({values})")


def upgrade() -> None:
    _change_enum("products", "kind", "product_kind", OLD_KINDS, NEW_KINDS)
    _change_enum("orders", "status", "order_status", OLD_STATES, NEW_STATES)
    with op.batch_alter_table("products") as batch_op:
        batch_op.add_column(sa.Column("product_line", _enum(("ipfonie", "centraflex"), "product_line"),
                                      server_default="ipfonie", nullable=False))
        batch_op.add_column(sa.Column("description", sa.String(length=300), server_default="", nullable=False))
        batch_op.add_column(sa.Column("one_off_price_cents", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("sort_order", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("carts") as batch_op:
        batch_op.add_column(sa.Column("token", sa.String(length=32), nullable=True))
    with op.batch_alter_table("cart_items") as batch_op:
        batch_op.add_column(sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True))
        _line_constraints(batch_op, "cart_items")
    with op.batch_alter_table("orders") as batch_op:
        batch_op.add_column(sa.Column("submission_key", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("handled_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("refusal_reason", sa.String(length=500), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_orders_submission_key"), ["submission_key"])
        batch_op.create_foreign_key(batch_op.f("fk_orders_handled_by_id_users"), "users", ["handled_by_id"],
                                    ["id"], ondelete="SET NULL")
    with op.batch_alter_table("order_items") as batch_op:
        batch_op.add_column(sa.Column("product_name", sa.String(length=120), server_default="", nullable=False))
        batch_op.add_column(sa.Column("product_kind", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("monthly_price_cents", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("one_off_price_cents", sa.Integer(), server_default="0", nullable=False))
        _line_constraints(batch_op, "order_items")
    with op.batch_alter_table("licences") as batch_op:
        batch_op.add_column(sa.Column("order_item_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("position", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_licences_order_item_id_order_items"), "order_items",
                                    ["order_item_id"], ["id"], ondelete="SET NULL")
        batch_op.create_unique_constraint("uq_licences_order_item_position", ["order_item_id", "position"])
    with op.batch_alter_table("contracts") as batch_op:
        batch_op.add_column(sa.Column("source_order_item_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_contracts_source_order_item_id"), ["source_order_item_id"])
        batch_op.create_foreign_key(batch_op.f("fk_contracts_source_order_item_id_order_items"), "order_items",
                                    ["source_order_item_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("contracts") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_contracts_source_order_item_id_order_items"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_contracts_source_order_item_id"), type_="unique")
        batch_op.drop_column("source_order_item_id")
    with op.batch_alter_table("licences") as batch_op:
        batch_op.drop_constraint("uq_licences_order_item_position", type_="unique")
        batch_op.drop_constraint(batch_op.f("fk_licences_order_item_id_order_items"), type_="foreignkey")
        batch_op.drop_column("position")
        batch_op.drop_column("order_item_id")
    op.execute("DELETE FROM order_items WHERE product_id IS NULL")
    op.execute("DELETE FROM cart_items WHERE product_id IS NULL")
    for table in ("order_items", "cart_items"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_parent_term", type_="foreignkey")
            batch_op.drop_constraint(f"uq_{table}_id_term", type_="unique")
            batch_op.drop_constraint(batch_op.f(f"ck_{table}_child_has_term"), type_="check")
            batch_op.drop_constraint(batch_op.f(f"ck_{table}_product_or_contract"), type_="check")
            batch_op.alter_column("product_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("order_items") as batch_op:
        for column in ("one_off_price_cents", "monthly_price_cents", "product_kind", "product_name"):
            batch_op.drop_column(column)
    with op.batch_alter_table("cart_items") as batch_op:
        batch_op.drop_column("removed_at")
    with op.batch_alter_table("orders") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_orders_handled_by_id_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_orders_submission_key"), type_="unique")
        for column in ("refusal_reason", "handled_at", "handled_by_id", "submission_key"):
            batch_op.drop_column(column)
    with op.batch_alter_table("carts") as batch_op:
        batch_op.drop_column("token")
    with op.batch_alter_table("products") as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_products_product_line"), type_="check")
        for column in ("sort_order", "one_off_price_cents", "description", "product_line"):
            batch_op.drop_column(column)
    op.execute("DELETE FROM products WHERE kind = 'voice_channels'")
    op.execute("UPDATE orders SET status = 'placed' WHERE status = 'refused'")
    _change_enum("orders", "status", "order_status", NEW_STATES, OLD_STATES)
    _change_enum("products", "kind", "product_kind", NEW_KINDS, OLD_KINDS)
