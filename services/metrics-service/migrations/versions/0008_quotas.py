"""Quota plans per sales force and period, and the segments of a period each alignment was in effect

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quota_plan",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("sales_force", sa.String(100), primary_key=True),
        sa.Column("period", sa.String(64), primary_key=True),
        sa.Column("goal", sa.Float, nullable=False),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date, nullable=False),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("potential_weight", sa.Float, nullable=False),
        sa.Column("adjustments", sa.JSON, nullable=False),
        sa.Column("alignment_id", sa.String(36), nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
    )
    op.create_table(
        "quota_segment",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("sales_force", sa.String(100), nullable=False),
        sa.Column("period", sa.String(64), nullable=False),
        sa.Column("alignment_id", sa.String(36), nullable=False),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date, nullable=True),
        sa.Column("frozen", sa.JSON, nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("tenant_id", "sales_force", "period", "starts_on", name="uq_quota_segment_start"),
    )


def downgrade() -> None:
    op.drop_table("quota_segment")
    op.drop_table("quota_plan")
