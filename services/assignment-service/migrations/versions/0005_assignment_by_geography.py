"""Whether an assignment's territory follows its unit: what publishing another alignment would do to it

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("assignments", sa.Column("by_geography", sa.Boolean, nullable=False, server_default=sa.false()))
    # Rows written before: geography placed them, or would have (no alignment, outside every unit, white space).
    op.execute(
        "UPDATE assignments SET by_geography = TRUE WHERE cause = 'geography' OR (cause = 'unassigned' AND ("
        "reason = 'the sales force has no active alignment' OR reason LIKE 'the location is outside%' "
        "OR reason LIKE 'unit % is white space%'))"
    )


def downgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        batch.drop_column("by_geography")
