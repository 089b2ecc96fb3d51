"""Reps' names in rep_projection, shown beside their quotas

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Filled by the next assignment.rep.upserted.v1 of each rep, or at once by replaying assignment.rep.
    op.add_column("rep_projection", sa.Column("name", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rep_projection") as batch:
        batch.drop_column("name")
