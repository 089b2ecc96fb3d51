"""Pending outbox rows by seq: the relay's next batch is an index range, not a sort of every pending row

Revision ID: 0004
Revises: 0003
"""

from territory_shared.messaging.migration_ops import create_outbox_pending_index, drop_outbox_pending_index

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # After a broker outage (or any large publication) many rows are pending; with only the index on published_at
    # the relay sorted all of them for every batch it sent.
    create_outbox_pending_index()


def downgrade() -> None:
    drop_outbox_pending_index()
