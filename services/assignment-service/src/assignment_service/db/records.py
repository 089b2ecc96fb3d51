"""assignment-service tables.

Territories are referred to by their code within a sales force: codes are stable across alignments (the
``geo.alignment.published.v1`` diff is by code), territory ids are not. History, roster entries and removed
overrides are kept (end-dated), never deleted.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from territory_shared.jobs import jobs_table
from territory_shared.messaging.tables import inbox_table, outbox_pending_index, outbox_table

from assignment_service.domain.rule_set import Fallback

_SEQ = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    if TYPE_CHECKING:
        # Every record here is mapped to a Table (SQLAlchemy types `__table__` as any FromClause).
        __table__: ClassVar[Table]


class AccountRecord(Base):
    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("tenant_id", "external_id", name="uq_accounts_external_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    zip: Mapped[str | None] = mapped_column(String(10), nullable=True)
    location_precision: Mapped[str | None] = mapped_column(String(20), nullable=True)
    potential: Mapped[float | None] = mapped_column(Float, nullable=True)
    revenue: Mapped[float | None] = mapped_column(Float, nullable=True)
    industry: Mapped[str | None] = mapped_column(String(100), nullable=True)
    size: Mapped[str | None] = mapped_column(String(4), nullable=True)
    visits_per_year: Mapped[float | None] = mapped_column(Float, nullable=True)
    workload_hours: Mapped[float | None] = mapped_column(Float, nullable=True)
    custom: Mapped[dict[str, float]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RepRecord(Base):
    __tablename__ = "reps"
    __table_args__ = (UniqueConstraint("tenant_id", "external_id", name="uq_reps_external_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    home_lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    home_lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    capacity_hours: Mapped[float | None] = mapped_column(Float, nullable=True)
    role: Mapped[str | None] = mapped_column(String(50), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RosterEntryRecord(Base):
    """A rep holds a territory of a sales force, as primary or secondary, between two dates (end exclusive)."""

    __tablename__ = "roster_entries"
    __table_args__ = (Index("ix_roster_territory", "tenant_id", "sales_force", "territory_code"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    sales_force: Mapped[str] = mapped_column(String(100))
    territory_code: Mapped[str] = mapped_column(String(64))
    rep_id: Mapped[str] = mapped_column(String(36), index=True)
    role: Mapped[str] = mapped_column(String(20))  # primary | secondary
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    ended_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # When the owners of the territory were recomputed for the entry's first day and for its end: at once when
    # the day had come already, else by the roster-dates worker when it comes (workers/roster_dates.py).
    start_applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    end_applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class SalesForceRecord(Base):
    """A sales force this service assigns for, and the active alignment it last applied."""

    __tablename__ = "sales_forces"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    alignment_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    alignment_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    layer_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RuleSetRecord(Base):
    __tablename__ = "rule_sets"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sales_force: Mapped[str] = mapped_column(String(100), primary_key=True)
    fallback: Mapped[Fallback] = mapped_column(String(20))
    rules: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str | None] = mapped_column(String(200), nullable=True)

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


class OverrideRecord(Base):
    """A named account pinned to a territory and/or rep; ``removed_at`` set when lifted (kept for audit)."""

    __tablename__ = "overrides"
    __table_args__ = (Index("ix_overrides_account", "tenant_id", "sales_force", "account_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    sales_force: Mapped[str] = mapped_column(String(100))
    account_id: Mapped[str] = mapped_column(String(36))
    territory_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    rep_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    removed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


class AssignmentRecord(Base):
    """The current assignment of an account in a sales force; ``territory_code`` null = unassigned (``reason``)."""

    __tablename__ = "assignments"
    __table_args__ = (
        Index("ix_assignments_unit", "tenant_id", "sales_force", "geo_unit_id"),
        Index("ix_assignments_territory", "tenant_id", "sales_force", "territory_code"),
    )

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sales_force: Mapped[str] = mapped_column(String(100), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(100))
    territory_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    rep_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    cause: Mapped[str] = mapped_column(String(20))  # geography | rule | override | unassigned
    rule: Mapped[str | None] = mapped_column(String(100), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    geo_unit_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    geo_territory_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    alignment_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    potential: Mapped[float | None] = mapped_column(Float, nullable=True)
    # The territory follows the unit's (``Decision.by_geography``): what publishing another alignment does to it.
    by_geography: Mapped[bool] = mapped_column(Boolean, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class HistoryRecord(Base):
    """Every change of an account's territory or rep (the audit trail); ``run_id`` for realignment changes."""

    __tablename__ = "assignment_history"
    __table_args__ = (
        Index("ix_history_account", "tenant_id", "account_id", "seq"),
        Index("ix_history_run", "run_id", "seq"),
    )

    seq: Mapped[int] = mapped_column(_SEQ, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    sales_force: Mapped[str] = mapped_column(String(100))
    account_id: Mapped[str] = mapped_column(String(36))
    external_id: Mapped[str] = mapped_column(String(100))
    from_territory_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    to_territory_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    from_rep_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    to_rep_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    cause: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    trigger: Mapped[str] = mapped_column(String(20))
    run_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    alignment_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    potential: Mapped[float | None] = mapped_column(Float, nullable=True)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    changed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)  # territory_shared.audit's actor


class RealignmentRunRecord(Base):
    __tablename__ = "realignment_runs"
    __table_args__ = (UniqueConstraint("tenant_id", "alignment_id", "alignment_version", name="uq_runs_alignment"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    sales_force: Mapped[str] = mapped_column(String(100))
    alignment_id: Mapped[str] = mapped_column(String(36))
    alignment_version: Mapped[int] = mapped_column(Integer)
    previous_alignment_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    mode: Mapped[str] = mapped_column(String(20))  # incremental | full
    parts: Mapped[int] = mapped_column(Integer)
    parts_done: Mapped[list[int]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))  # running | completed
    accounts_moved: Mapped[int] = mapped_column(Integer)
    summary: Mapped[dict[str, object] | None] = mapped_column(JSON, nullable=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    started_by: Mapped[str | None] = mapped_column(String(200), nullable=True)  # who published the alignment


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_sha256: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, object]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WebhookRecord(Base):
    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(200))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WebhookDeliveryRecord(Base):
    """One notice for one webhook; written with the notice's outbox row, so it is never lost."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_deliveries_due", "status", "next_attempt_at"),)

    seq: Mapped[int] = mapped_column(_SEQ, primary_key=True, autoincrement=True)
    webhook_id: Mapped[str] = mapped_column(String(36), index=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(200))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(20))  # pending | delivered
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


OUTBOX = outbox_table(Base.metadata)
outbox_pending_index(OUTBOX)
INBOX = inbox_table(Base.metadata)
JOBS = jobs_table(Base.metadata)
