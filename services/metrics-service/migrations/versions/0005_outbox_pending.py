"""Pending outbox rows by seq: the relay's next batch is an index range, not a sort of every pending row

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

PENDING = sa.text("published_at IS NULL")


def upgrade() -> None:
    # After a broker outage (or any large publication) many rows are pending; with only the index on published_at
    # the relay sorted all of them for every batch it sent.
    op.create_index("ix_outbox_pending", "outbox", ["seq"], postgresql_where=PENDING, sqlite_where=PENDING)


def downgrade() -> None:
    op.drop_index("ix_outbox_pending", table_name="outbox")
