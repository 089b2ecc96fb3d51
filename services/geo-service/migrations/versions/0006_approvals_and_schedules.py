"""Approval policies and steps of drafts; scheduled (effective-dated) publishing

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
        "approval_policies",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("sales_force", sa.String(100), primary_key=True),
        sa.Column("levels", sa.JSON, nullable=False),
        sa.Column("allow_self_approval", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "approval_steps",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("alignment_id", sa.String(36), sa.ForeignKey("alignments.id", ondelete="CASCADE"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("level", sa.Integer, nullable=True),
        sa.Column("decision", sa.String(20), nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("comment", sa.String(2000), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.UniqueConstraint("alignment_id", "seq", name="uq_approval_steps_seq"),
    )
    op.create_index("ix_approval_steps_alignment_id", "approval_steps", ["alignment_id"])
    op.create_table(
        "publish_schedules",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("alignment_id", sa.String(36), nullable=False),
        sa.Column("sales_force", sa.String(100), nullable=False),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(200), nullable=True),
        sa.Column("outcome", sa.String(1000), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    )
    # The worker's question: which schedules are due?
    op.create_index("ix_publish_schedules_due", "publish_schedules", ["state", "effective_at"])
    op.create_index("ix_publish_schedules_tenant", "publish_schedules", ["tenant_id", "sales_force"])
    op.create_index(
        "uq_publish_schedules_one_pending",
        "publish_schedules",
        ["alignment_id"],
        unique=True,
        postgresql_where=sa.text("state = 'scheduled'"),
        sqlite_where=sa.text("state = 'scheduled'"),
    )


def downgrade() -> None:
    op.drop_table("publish_schedules")
    op.drop_table("approval_steps")
    op.drop_table("approval_policies")
