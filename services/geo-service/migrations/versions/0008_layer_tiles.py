"""Vector tiles stored per layer (cut once, at import or on first view), where a layer's map opens, whole-layer
responses built once, and units' display names

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("layers", sa.Column("tiles_zoom", sa.Integer, nullable=True))
    op.add_column("layers", sa.Column("frame", sa.JSON, nullable=True))
    op.add_column("units", sa.Column("name", sa.String(200), nullable=True))
    op.create_table(
        "layer_tiles",
        sa.Column("layer_id", sa.String(36), sa.ForeignKey("layers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("z", sa.Integer, primary_key=True),
        sa.Column("x", sa.Integer, primary_key=True),
        sa.Column("y", sa.Integer, primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "layer_payloads",
        sa.Column("layer_id", sa.String(36), sa.ForeignKey("layers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("layer_payloads")
    op.drop_table("layer_tiles")
    with op.batch_alter_table("units") as batch:
        batch.drop_column("name")
    with op.batch_alter_table("layers") as batch:
        batch.drop_column("tiles_zoom")
        batch.drop_column("frame")
