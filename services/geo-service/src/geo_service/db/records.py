"""geo-service tables.

Geometry is stored as WKB (``LargeBinary``) so the same models run on SQLite; on PostgreSQL the
migrations add a generated PostGIS ``geom`` column with a GiST index beside each WKB column, for
spatial SQL (and the PostGIS side of the benchmarks).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from territory_shared.jobs import jobs_table
from territory_shared.messaging.tables import inbox_table, outbox_pending_index, outbox_table


class Base(DeclarativeBase):
    pass


class LayerRecord(Base):
    __tablename__ = "layers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # polygon | point
    attributes: Mapped[list[str]] = mapped_column(JSON)
    unit_count: Mapped[int] = mapped_column(Integer)
    bbox: Mapped[list[float]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # A layer derived from others (units split into finer units): its parent layers and the units split.
    lineage: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True, default=None)
    # The zoom through which every tile of the layer is stored in layer_tiles (null: none stored yet, tiles are cut
    # on demand). A tile of a zoom up to it that is not stored holds no unit.
    tiles_zoom: Mapped[int | None] = mapped_column(Integer, nullable=True, default=None)
    # Where a map of the layer opens (west, south, east, north): its main cluster of units (null: not known).
    frame: Mapped[list[float] | None] = mapped_column(JSON, nullable=True, default=None)


class UnitRecord(Base):
    __tablename__ = "units"
    __table_args__ = (Index("ix_units_bbox", "layer_id", "minx", "maxx", "miny", "maxy"),)

    layer_id: Mapped[str] = mapped_column(ForeignKey("layers.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    # Position in the layer's unit-id order: the index of the unit in in-memory arrays.
    idx: Mapped[int] = mapped_column(Integer)
    wkb: Mapped[bytes] = mapped_column(LargeBinary)
    attributes: Mapped[dict[str, float]] = mapped_column(JSON)
    area_km2: Mapped[float] = mapped_column(Float)
    centroid_lon: Mapped[float] = mapped_column(Float)
    centroid_lat: Mapped[float] = mapped_column(Float)
    minx: Mapped[float] = mapped_column(Float)
    miny: Mapped[float] = mapped_column(Float)
    maxx: Mapped[float] = mapped_column(Float)
    maxy: Mapped[float] = mapped_column(Float)
    # A piece of a derived layer: the finer unit it was clipped from, the unit it split and its area share.
    source: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True, default=None)
    # What people call the unit ("Cook, IL", "60614 Chicago, IL"), when the imported file names its units.
    name: Mapped[str | None] = mapped_column(String(200), nullable=True, default=None)


class TileRecord(Base):
    """A vector tile of a layer, cut once (layers never change after import) and served as stored."""

    __tablename__ = "layer_tiles"

    layer_id: Mapped[str] = mapped_column(ForeignKey("layers.id", ondelete="CASCADE"), primary_key=True)
    z: Mapped[int] = mapped_column(Integer, primary_key=True)
    x: Mapped[int] = mapped_column(Integer, primary_key=True)
    y: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class PayloadRecord(Base):
    """A response about a whole layer that never changes once imported (every unit's facts, the adjacency), built
    once and served as stored."""

    __tablename__ = "layer_payloads"

    layer_id: Mapped[str] = mapped_column(ForeignKey("layers.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class AdjacencyRecord(Base):
    __tablename__ = "adjacency"

    layer_id: Mapped[str] = mapped_column(ForeignKey("layers.id", ondelete="CASCADE"), primary_key=True)
    unit_a: Mapped[str] = mapped_column(String(100), primary_key=True)
    unit_b: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # border | island-link
    distance_km: Mapped[float] = mapped_column(Float)


class AlignmentRecord(Base):
    __tablename__ = "alignments"
    __table_args__ = (
        # Exactly one active alignment per tenant and sales force, enforced by the database itself.
        Index(
            "uq_alignments_one_active",
            "tenant_id",
            "sales_force",
            unique=True,
            postgresql_where=text("state = 'active'"),
            sqlite_where=text("state = 'active'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    layer_id: Mapped[str] = mapped_column(ForeignKey("layers.id"))
    sales_force: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20))  # draft | active | archived
    version: Mapped[int] = mapped_column(Integer)
    copied_from: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


class MembershipRecord(Base):
    """Which territory of an alignment owns a unit; ``territory_id`` null is white space."""

    __tablename__ = "memberships"
    __table_args__ = (Index("ix_memberships_territory", "alignment_id", "territory_id"),)

    alignment_id: Mapped[str] = mapped_column(ForeignKey("alignments.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    territory_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)


class TerritoryRecord(Base):
    __tablename__ = "territories"
    __table_args__ = (UniqueConstraint("tenant_id", "alignment_id", "code", name="uq_territories_alignment_code"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    alignment_id: Mapped[str | None] = mapped_column(
        ForeignKey("alignments.id", ondelete="CASCADE"), nullable=True, index=True
    )
    parent_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    colour: Mapped[str | None] = mapped_column(String(16), nullable=True)
    version: Mapped[int] = mapped_column(Integer)

    # Every UPDATE/DELETE checks the version it read: a concurrent writer makes the flush fail
    # instead of both writers producing the same version number.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


class TerritoryShapeRecord(Base):
    """The dissolved union of a territory's units (leaves) or children (upper levels), kept current."""

    __tablename__ = "territory_shapes"

    territory_id: Mapped[str] = mapped_column(ForeignKey("territories.id", ondelete="CASCADE"), primary_key=True)
    alignment_id: Mapped[str] = mapped_column(String(36), index=True)
    wkb: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    display_wkb: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    unit_count: Mapped[int] = mapped_column(Integer)


class ApprovalPolicyRecord(Base):
    """A sales force's approval policy: the levels a draft passes before it may be published."""

    __tablename__ = "approval_policies"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sales_force: Mapped[str] = mapped_column(String(100), primary_key=True)
    levels: Mapped[list[dict[str, object]]] = mapped_column(JSON)  # [{"name", "roles", "users"}]
    allow_self_approval: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


class ApprovalStepRecord(Base):
    """One step of a draft's approval: submitted, approved or rejected at a level, or overridden at publish."""

    __tablename__ = "approval_steps"
    # Two decisions made at once both take the next seq: the second one fails instead of both counting.
    __table_args__ = (UniqueConstraint("alignment_id", "seq", name="uq_approval_steps_seq"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    alignment_id: Mapped[str] = mapped_column(ForeignKey("alignments.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    level: Mapped[int | None] = mapped_column(Integer, nullable=True)
    decision: Mapped[str] = mapped_column(String(20))  # submitted | approved | rejected | overridden
    by: Mapped[str] = mapped_column(String(200))
    comment: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer)  # the alignment version the step is about


class PublishScheduleRecord(Base):
    """A draft to publish at ``effective_at`` (UTC). No foreign key: the record outlives a deleted draft."""

    __tablename__ = "publish_schedules"
    __table_args__ = (
        Index("ix_publish_schedules_due", "state", "effective_at"),
        Index("ix_publish_schedules_tenant", "tenant_id", "sales_force"),
        # One pending schedule per alignment, enforced by the database itself.
        Index(
            "uq_publish_schedules_one_pending",
            "alignment_id",
            unique=True,
            postgresql_where=text("state = 'scheduled'"),
            sqlite_where=text("state = 'scheduled'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    alignment_id: Mapped[str] = mapped_column(String(36))
    sales_force: Mapped[str] = mapped_column(String(100))
    effective_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    time_zone: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(20))  # scheduled | done | cancelled | failed
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    done_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


OUTBOX = outbox_table(Base.metadata)
outbox_pending_index(OUTBOX)
INBOX = inbox_table(Base.metadata)
JOBS = jobs_table(Base.metadata)
