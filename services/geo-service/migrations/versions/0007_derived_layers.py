"""Derived layers: where a layer comes from (units split into finer units), and where each of its pieces does

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("layers", sa.Column("lineage", sa.JSON, nullable=True))
    op.add_column("units", sa.Column("source", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("units") as batch:
        batch.drop_column("source")
    with op.batch_alter_table("layers") as batch:
        batch.drop_column("lineage")
