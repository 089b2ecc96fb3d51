"""The audit log: who made each change, and when (territory_shared.audit)

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op
from territory_shared.audit import audit_table

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    audit_table(sa.MetaData()).create(op.get_bind())


def downgrade() -> None:
    op.drop_table("audit_log")
