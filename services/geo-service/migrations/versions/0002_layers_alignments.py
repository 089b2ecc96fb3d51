"""Unit layers, adjacency, alignments, memberships, territory hierarchy and shapes, jobs

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from territory_shared.jobs import jobs_table

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    jobs_table(sa.MetaData()).create(op.get_bind())
    op.create_table(
        "layers",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("attributes", sa.JSON, nullable=False),
        sa.Column("unit_count", sa.Integer, nullable=False),
        sa.Column("bbox", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "units",
        sa.Column("layer_id", sa.String(36), sa.ForeignKey("layers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("unit_id", sa.String(100), primary_key=True),
        sa.Column("idx", sa.Integer, nullable=False),
        sa.Column("wkb", sa.LargeBinary, nullable=False),
        sa.Column("attributes", sa.JSON, nullable=False),
        sa.Column("area_km2", sa.Float, nullable=False),
        sa.Column("centroid_lon", sa.Float, nullable=False),
        sa.Column("centroid_lat", sa.Float, nullable=False),
        sa.Column("minx", sa.Float, nullable=False),
        sa.Column("miny", sa.Float, nullable=False),
        sa.Column("maxx", sa.Float, nullable=False),
        sa.Column("maxy", sa.Float, nullable=False),
    )
    op.create_index("ix_units_bbox", "units", ["layer_id", "minx", "maxx", "miny", "maxy"])
    op.create_table(
        "adjacency",
        sa.Column("layer_id", sa.String(36), sa.ForeignKey("layers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("unit_a", sa.String(100), primary_key=True),
        sa.Column("unit_b", sa.String(100), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("distance_km", sa.Float, nullable=False),
    )
    op.create_table(
        "alignments",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False, index=True),
        sa.Column("layer_id", sa.String(36), sa.ForeignKey("layers.id"), nullable=False),
        sa.Column("sales_force", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("copied_from", sa.String(36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "uq_alignments_one_active",
        "alignments",
        ["tenant_id", "sales_force"],
        unique=True,
        postgresql_where=sa.text("state = 'active'"),
        sqlite_where=sa.text("state = 'active'"),
    )
    op.create_table(
        "memberships",
        sa.Column("alignment_id", sa.String(36), sa.ForeignKey("alignments.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("unit_id", sa.String(100), primary_key=True),
        sa.Column("territory_id", sa.String(36), nullable=True),
        sa.Column("locked", sa.Boolean, nullable=False),
    )
    op.create_index("ix_memberships_territory", "memberships", ["alignment_id", "territory_id"])
    with op.batch_alter_table("territories") as batch:
        batch.add_column(sa.Column("alignment_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("parent_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("colour", sa.String(16), nullable=True))
        batch.drop_constraint("uq_territories_tenant_code", type_="unique")
        batch.create_unique_constraint("uq_territories_alignment_code", ["tenant_id", "alignment_id", "code"])
        batch.create_foreign_key("fk_territories_alignment", "alignments", ["alignment_id"], ["id"], ondelete="CASCADE")
        batch.create_index("ix_territories_alignment_id", ["alignment_id"])
    op.create_table(
        "territory_shapes",
        sa.Column("territory_id", sa.String(36), sa.ForeignKey("territories.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("alignment_id", sa.String(36), nullable=False, index=True),
        sa.Column("wkb", sa.LargeBinary, nullable=True),
        sa.Column("display_wkb", sa.LargeBinary, nullable=True),
        sa.Column("unit_count", sa.Integer, nullable=False),
    )
    if postgres:
        # PostGIS views of the WKB columns, for spatial SQL; the application reads and writes WKB.
        op.execute(
            "ALTER TABLE units ADD COLUMN geom geometry(Geometry, 4326) "
            "GENERATED ALWAYS AS (ST_GeomFromWKB(wkb, 4326)) STORED"
        )
        op.execute("CREATE INDEX ix_units_geom ON units USING GIST (geom)")
        op.execute(
            "ALTER TABLE territory_shapes ADD COLUMN geom geometry(Geometry, 4326) "
            "GENERATED ALWAYS AS (ST_GeomFromWKB(wkb, 4326)) STORED"
        )
        op.execute("CREATE INDEX ix_territory_shapes_geom ON territory_shapes USING GIST (geom)")


def downgrade() -> None:
    op.drop_table("territory_shapes")
    with op.batch_alter_table("territories") as batch:
        batch.drop_index("ix_territories_alignment_id")
        batch.drop_constraint("fk_territories_alignment", type_="foreignkey")
        batch.drop_constraint("uq_territories_alignment_code", type_="unique")
        batch.create_unique_constraint("uq_territories_tenant_code", ["tenant_id", "code"])
        batch.drop_column("colour")
        batch.drop_column("parent_id")
        batch.drop_column("alignment_id")
    op.drop_table("memberships")
    op.drop_table("alignments")
    op.drop_table("adjacency")
    op.drop_table("units")
    op.drop_table("layers")
    op.drop_table("jobs")
