"""Owners and rosters as assignment-service tells them, instead of inferring rosters from reassignments; alerts

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ownership_projection",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("sales_force", sa.String(100), primary_key=True),
        sa.Column("account_id", sa.String(64), primary_key=True),
        sa.Column("territory_code", sa.String(64), nullable=True),
        sa.Column("rep_id", sa.String(64), nullable=True),
        sa.Column("unit_id", sa.String(100), nullable=True),
        sa.Column("by_geography", sa.Boolean, nullable=False),
        sa.Column("cause", sa.String(20), nullable=False),
    )
    op.create_table(
        "roster_entry_projection",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("entry_id", sa.String(64), primary_key=True),
        sa.Column("sales_force", sa.String(100), nullable=False),
        sa.Column("territory_code", sa.String(64), nullable=False),
        sa.Column("rep_id", sa.String(64), nullable=False),
        sa.Column("rep_external_id", sa.String(200), nullable=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("effective_to", sa.Date, nullable=True),
    )
    op.create_index(
        "ix_roster_entry_territory", "roster_entry_projection", ["tenant_id", "sales_force", "territory_code"]
    )
    op.add_column("rep_projection", sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()))
    # The roster inferred from who owned accounts: replaced by the roster entries themselves.
    op.drop_table("roster_projection")
    op.create_table(
        "balance_alert",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("alignment_id", sa.String(36), nullable=False, index=True),
        sa.Column("sales_force", sa.String(100), nullable=False),
        sa.Column("territory_id", sa.String(36), nullable=False),
        sa.Column("territory_code", sa.String(64), nullable=False),
        sa.Column("metric", sa.String(100), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("target", sa.Float, nullable=False),
        sa.Column("deviation_pct", sa.Float, nullable=False),
        sa.Column("tolerance_pct", sa.Float, nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_balance_alert_tenant", "balance_alert", ["tenant_id", "detected_at"])


def downgrade() -> None:
    op.drop_index("ix_balance_alert_tenant", "balance_alert")
    op.drop_table("balance_alert")
    op.create_table(
        "roster_projection",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("sales_force", sa.String(100), primary_key=True),
        sa.Column("territory_code", sa.String(64), primary_key=True),
        sa.Column("rep_id", sa.String(64), primary_key=True),
        sa.Column("accounts", sa.Integer, nullable=False),
    )
    with op.batch_alter_table("rep_projection") as batch:
        batch.drop_column("active")
    op.drop_index("ix_roster_entry_territory", "roster_entry_projection")
    op.drop_table("roster_entry_projection")
    op.drop_table("ownership_projection")
