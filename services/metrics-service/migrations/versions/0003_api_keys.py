"""API keys (hashed), from territory_shared.api.api_keys

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from territory_shared.api.api_keys import api_keys_table

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    api_keys_table(sa.MetaData()).create(op.get_bind())


def downgrade() -> None:
    op.drop_table("api_keys")
