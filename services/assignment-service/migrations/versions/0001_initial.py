"""PostGIS and messaging tables

Revision ID: 0001
Revises:
"""

from alembic import op
from territory_shared.messaging.migration_ops import create_messaging_tables, drop_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    create_messaging_tables()


def downgrade() -> None:
    drop_messaging_tables()
