"""The audit log every service keeps: who made each change, and when.

Each unit of work writes, in the transaction of the change, one row per event it stages, with the event's actor
(``territory_shared.actor``). Event types told once per account (a realignment tells them by the hundred thousand)
get one summary row per type and actor each time a unit of work writes its events instead (a large change writes
them in batches); an account's own history says who moved it.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, Integer, MetaData, String, Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from territory_shared.actor import SYSTEM, current_actor
from territory_shared.events.envelope import CloudEvent

__all__ = ["AUDIT", "BULK_EVENT_TYPES", "add_to_audit", "audit_rows", "audit_table", "current_actor"]

# Told once per account (or per unit): one summary row per commit instead of one row each.
BULK_EVENT_TYPES = frozenset(
    {
        "assignment.account.reassigned.v1",
        "assignment.account.upserted.v1",
        "assignment.account.deleted.v1",
        "assignment.rep.upserted.v1",
    }
)


def audit_table(metadata: MetaData) -> Table:
    return Table(
        "audit_log",
        metadata,
        Column("id", String(36), primary_key=True),
        Column("tenant_id", String(64), nullable=False),
        Column("at", DateTime(timezone=True), nullable=False),
        Column("actor", String(200), nullable=False),
        Column("action", String(200), nullable=False),  # the event type
        Column("subject", String(200), nullable=True),  # the aggregate; null on a summary row
        Column("count", Integer, nullable=False),  # events the row stands for
        Column("details", JSON, nullable=True),
        Index("ix_audit_log_tenant_at", "tenant_id", "at"),
        Index("ix_audit_log_tenant_subject", "tenant_id", "subject"),
    )


AUDIT = audit_table(MetaData())

_DETAIL_LIMIT = 4_000  # characters of an event's data kept with its row: enough for names, codes and comments


def audit_rows(
    events: Sequence[CloudEvent], bulk: Counter[tuple[str, str, str]] | None = None, at: datetime | None = None
) -> list[dict[str, Any]]:
    """Rows for ``events``, plus ``bulk``: counts of events staged without an envelope object, by (tenant, actor,
    type)."""
    now = at or datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    counts: Counter[tuple[str, str, str]] = Counter(bulk or {})
    for event in events:
        actor = event.actor or SYSTEM
        if event.type in BULK_EVENT_TYPES:
            counts[(event.tenantid, actor, event.type)] += 1
            continue
        rows.append(_row(event.tenantid, now, actor, event.type, event.subject, 1, _details(event.data)))
    for (tenant, actor, type_), count in sorted(counts.items()):
        rows.append(_row(tenant, now, actor, type_, None, count, None))
    return rows


def _row(
    tenant: str, at: datetime, actor: str, action: str, subject: str | None, count: int, details: Any
) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "tenant_id": tenant,
        "at": at,
        "actor": actor,
        "action": action,
        "subject": subject,
        "count": count,
        "details": details,
    }


def _details(data: dict[str, Any]) -> dict[str, Any]:
    # Long lists (a publish's unit changes) are summarised by their length.
    out: dict[str, Any] = {}
    size = 0
    for key, value in data.items():
        if isinstance(value, list) and len(value) > 20:
            value = {"items": len(value)}
        size += len(str(value))
        if size > _DETAIL_LIMIT:
            out["truncated"] = True
            break
        out[key] = value
    return out


async def add_to_audit(
    session: AsyncSession, events: Sequence[CloudEvent], bulk: Counter[tuple[str, str, str]] | None = None
) -> None:
    """Write the audit rows of ``events`` (and ``bulk``) in the caller's transaction."""
    rows = audit_rows(events, bulk)
    if rows:
        await session.execute(insert(AUDIT), rows)
