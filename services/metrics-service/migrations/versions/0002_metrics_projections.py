"""Projections of layers, units, alignments, memberships, accounts, reps and rosters; balance flags; snapshots

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("territory_projection") as batch:
        batch.add_column(sa.Column("alignment_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("parent_id", sa.String(36), nullable=True))
        batch.create_index("ix_territory_projection_alignment_id", ["alignment_id"])
    op.create_table(
        "layer_projection",
        sa.Column("layer_id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("attributes", sa.JSON, nullable=False),
        sa.Column("unit_count", sa.Integer, nullable=False),
    )
    op.create_table(
        "unit_projection",
        sa.Column("layer_id", sa.String(36), primary_key=True),
        sa.Column("unit_id", sa.String(100), primary_key=True),
        sa.Column("idx", sa.Integer, nullable=False),
        sa.Column("attributes", sa.JSON, nullable=False),
        sa.Column("wkb", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "alignment_projection",
        sa.Column("alignment_id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False, index=True),
        sa.Column("layer_id", sa.String(36), nullable=False),
        sa.Column("sales_force", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("copied_from", sa.String(36), nullable=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "membership_projection",
        sa.Column("alignment_id", sa.String(36), primary_key=True),
        sa.Column("unit_id", sa.String(100), primary_key=True),
        sa.Column("territory_id", sa.String(36), nullable=True),
        sa.Column("revision", sa.Integer, nullable=False),
    )
    op.create_index("ix_membership_revision", "membership_projection", ["alignment_id", "revision"])
    op.create_table(
        "balance_flag",
        sa.Column("alignment_id", sa.String(36), primary_key=True),
        sa.Column("territory_id", sa.String(36), primary_key=True),
        sa.Column("metric", sa.String(100), primary_key=True),
        sa.Column("out_of_balance", sa.Boolean, nullable=False),
        sa.Column("deviation_pct", sa.Float, nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "metric_snapshot",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False, index=True),
        sa.Column("alignment_id", sa.String(36), nullable=False, index=True),
        sa.Column("sales_force", sa.String(100), nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("totals", sa.JSON, nullable=False),
        sa.Column("territories", sa.JSON, nullable=False),
        sa.UniqueConstraint("alignment_id", "reason", "day", name="uq_snapshot_per_day"),
    )
    op.create_table(
        "account_projection",
        sa.Column("account_id", sa.String(64), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False, index=True),
        sa.Column("external_id", sa.String(200), nullable=True),
        sa.Column("lon", sa.Float, nullable=True),
        sa.Column("lat", sa.Float, nullable=True),
        sa.Column("values", sa.JSON, nullable=False),
        sa.Column("territory_id", sa.String(36), nullable=True),
        sa.Column("rep_id", sa.String(64), nullable=True),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "rep_projection",
        sa.Column("rep_id", sa.String(64), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False, index=True),
        sa.Column("home_lon", sa.Float, nullable=True),
        sa.Column("home_lat", sa.Float, nullable=True),
        sa.Column("capacity_hours", sa.Float, nullable=False),
    )
    op.create_table(
        "roster_projection",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("sales_force", sa.String(100), primary_key=True),
        sa.Column("territory_code", sa.String(64), primary_key=True),
        sa.Column("rep_id", sa.String(64), primary_key=True),
        sa.Column("accounts", sa.Integer, nullable=False),
    )
    op.create_table(
        "tenant_revision",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("accounts", sa.Integer, nullable=False),
        sa.Column("rosters", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "tenant_revision",
        "roster_projection",
        "rep_projection",
        "account_projection",
        "metric_snapshot",
        "balance_flag",
        "membership_projection",
        "alignment_projection",
        "unit_projection",
        "layer_projection",
    ):
        op.drop_table(table)
    with op.batch_alter_table("territory_projection") as batch:
        batch.drop_index("ix_territory_projection_alignment_id")
        batch.drop_column("parent_id")
        batch.drop_column("alignment_id")
