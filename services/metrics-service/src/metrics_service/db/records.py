"""metrics-service tables: projections built only from events (and the owners' HTTP APIs), never their tables."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from territory_shared.messaging.tables import inbox_table, outbox_pending_index, outbox_table


class Base(DeclarativeBase):
    pass


class TerritoryProjectionRecord(Base):
    __tablename__ = "territory_projection"

    territory_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    # Kept rather than deleted so a late, stale event cannot resurrect the territory.
    deleted: Mapped[bool] = mapped_column(Boolean)
    # How many events changed this row: the figure that shows each event took effect once.
    events_applied: Mapped[int] = mapped_column(Integer)
    alignment_id: Mapped[str | None] = mapped_column(String(36), index=True, nullable=True)
    parent_id: Mapped[str | None] = mapped_column(String(36), nullable=True)


class LayerProjectionRecord(Base):
    """A unit layer, with its units fetched once from geo-service (attributes and geometry)."""

    __tablename__ = "layer_projection"

    layer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    attributes: Mapped[list[str]] = mapped_column(JSON)
    unit_count: Mapped[int] = mapped_column(Integer)


class UnitProjectionRecord(Base):
    __tablename__ = "unit_projection"

    layer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    idx: Mapped[int] = mapped_column(Integer)
    attributes: Mapped[dict[str, float]] = mapped_column(JSON)
    wkb: Mapped[bytes] = mapped_column(LargeBinary)  # lon/lat (EPSG:4326), projected when loaded


class AlignmentProjectionRecord(Base):
    __tablename__ = "alignment_projection"

    alignment_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    layer_id: Mapped[str] = mapped_column(String(36))
    sales_force: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    copied_from: Mapped[str | None] = mapped_column(String(36), nullable=True)
    # Bumped by every change the metrics depend on; membership rows carry the revision that set them,
    # so a cached model catches up by reading only the rows newer than its own revision.
    revision: Mapped[int] = mapped_column(Integer)
    deleted: Mapped[bool] = mapped_column(Boolean)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class MembershipRecord(Base):
    __tablename__ = "membership_projection"
    __table_args__ = (Index("ix_membership_revision", "alignment_id", "revision"),)

    alignment_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    territory_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    revision: Mapped[int] = mapped_column(Integer)


class BalanceFlagRecord(Base):
    """Whether a territory of an active alignment is out of tolerance on a metric (so drift is told once)."""

    __tablename__ = "balance_flag"

    alignment_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    territory_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    metric: Mapped[str] = mapped_column(String(100), primary_key=True)
    out_of_balance: Mapped[bool] = mapped_column(Boolean)
    deviation_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BalanceAlertRecord(Base):
    """A territory told out of balance (``metrics.territory.out_of_balance_detected.v1``, same id), open until it
    comes back within tolerance: the alerts listed over HTTP, current and past."""

    __tablename__ = "balance_alert"
    __table_args__ = (Index("ix_balance_alert_tenant", "tenant_id", "detected_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    alignment_id: Mapped[str] = mapped_column(String(36), index=True)
    sales_force: Mapped[str] = mapped_column(String(100))
    territory_id: Mapped[str] = mapped_column(String(36))
    territory_code: Mapped[str] = mapped_column(String(64))
    metric: Mapped[str] = mapped_column(String(100))
    value: Mapped[float] = mapped_column(Float)
    target: Mapped[float] = mapped_column(Float)
    deviation_pct: Mapped[float] = mapped_column(Float)
    tolerance_pct: Mapped[float] = mapped_column(Float)
    detected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class SnapshotRecord(Base):
    __tablename__ = "metric_snapshot"
    __table_args__ = (UniqueConstraint("alignment_id", "reason", "day", name="uq_snapshot_per_day"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    alignment_id: Mapped[str] = mapped_column(String(36), index=True)
    sales_force: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(20))  # publish | daily
    day: Mapped[str] = mapped_column(String(10))
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    totals: Mapped[dict[str, float]] = mapped_column(JSON)
    territories: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class AccountProjectionRecord(Base):
    """Accounts from assignment-service events: where they are and their numeric fields."""

    __tablename__ = "account_projection"

    account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    external_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    values: Mapped[dict[str, float]] = mapped_column(JSON)
    territory_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    rep_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    deleted: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer)


class RepProjectionRecord(Base):
    __tablename__ = "rep_projection"

    rep_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    home_lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    home_lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    capacity_hours: Mapped[float] = mapped_column(Float)
    version: Mapped[int] = mapped_column(Integer, server_default="0")
    active: Mapped[bool] = mapped_column(Boolean, server_default="1")
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)  # shown beside quotas and rosters


class OwnershipRecord(Base):
    """An account's owner in one sales force, from ``assignment.account.reassigned.v1``.

    ``by_geography``: the territory follows the unit ``unit_id`` (of the sales force's active layer), so another
    alignment of the sales force places the account where it puts that unit; otherwise the account stays pinned to
    ``territory_code`` (null: unassigned whatever the map says).
    """

    __tablename__ = "ownership_projection"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sales_force: Mapped[str] = mapped_column(String(100), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    territory_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    rep_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    unit_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    by_geography: Mapped[bool] = mapped_column(Boolean)
    cause: Mapped[str] = mapped_column(String(20))


class RosterEntryProjectionRecord(Base):
    """A rep on a territory's roster (by code, in a sales force), from ``assignment.roster.changed.v1``."""

    __tablename__ = "roster_entry_projection"
    __table_args__ = (Index("ix_roster_entry_territory", "tenant_id", "sales_force", "territory_code"),)

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sales_force: Mapped[str] = mapped_column(String(100))
    territory_code: Mapped[str] = mapped_column(String(64))
    rep_id: Mapped[str] = mapped_column(String(64))
    rep_external_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    role: Mapped[str] = mapped_column(String(20))
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date, nullable=True)


class TenantRevisionRecord(Base):
    """Bumped when accounts, their owners or rosters change, so cached models of the tenant know to reload them."""

    __tablename__ = "tenant_revision"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    accounts: Mapped[int] = mapped_column(Integer)
    rosters: Mapped[int] = mapped_column(Integer)


class QuotaPlanRecord(Base):
    """A sales force's quota plan for a period: the goal and how it is split over the leaf territories."""

    __tablename__ = "quota_plan"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sales_force: Mapped[str] = mapped_column(String(100), primary_key=True)
    period: Mapped[str] = mapped_column(String(64), primary_key=True)
    goal: Mapped[float] = mapped_column(Float)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)  # inclusive
    method: Mapped[str] = mapped_column(String(20))  # potential | revenue | blend
    potential_weight: Mapped[float] = mapped_column(Float)  # 1 for potential, 0 for revenue
    adjustments: Mapped[dict[str, float]] = mapped_column(JSON)  # leaf territory code -> amount
    alignment_id: Mapped[str | None] = mapped_column(String(36), nullable=True)  # whose codes adjustments name
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(200))


class QuotaSegmentRecord(Base):
    """The days of a plan's period during which one alignment was in effect.

    The open segment (``ends_on`` null, through the period's end) follows its alignment's figures as they change;
    when another alignment becomes active, it is closed with the figures and primary reps of its last day in
    ``frozen`` (territories: code, name, parent_code, is_leaf, potential, revenue; primary: code -> rep), so a
    later realignment never rewrites the past part of the period.
    """

    __tablename__ = "quota_segment"
    __table_args__ = (
        UniqueConstraint("tenant_id", "sales_force", "period", "starts_on", name="uq_quota_segment_start"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    sales_force: Mapped[str] = mapped_column(String(100))
    period: Mapped[str] = mapped_column(String(64))
    alignment_id: Mapped[str] = mapped_column(String(36))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date, nullable=True)  # inclusive; null while open
    frozen: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


OUTBOX = outbox_table(Base.metadata)
outbox_pending_index(OUTBOX)
INBOX = inbox_table(Base.metadata)
