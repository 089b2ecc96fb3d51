"""PostGIS, messaging tables and territories

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
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
    op.create_table(
        "territories",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False, index=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.UniqueConstraint("tenant_id", "code", name="uq_territories_tenant_code"),
    )


def downgrade() -> None:
    op.drop_table("territories")
    drop_messaging_tables()
