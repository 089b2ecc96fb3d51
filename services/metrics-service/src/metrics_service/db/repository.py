"""Reads of the projections that the metrics are computed from, and of what monitoring keeps (snapshots, balance
flags and alerts)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

import numpy as np
import shapely
from sqlalchemy import Text, and_, cast, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from metrics_service.db.records import (
    AccountProjectionRecord,
    AlignmentProjectionRecord,
    BalanceAlertRecord,
    BalanceFlagRecord,
    LayerProjectionRecord,
    MembershipRecord,
    OwnershipRecord,
    RepProjectionRecord,
    RosterEntryProjectionRecord,
    SnapshotRecord,
    TenantRevisionRecord,
    TerritoryProjectionRecord,
    UnitProjectionRecord,
)
from metrics_service.domain.accounts import LOCATE, OwnedSums, owned_sums
from metrics_service.domain.alignment import TerritoryNode
from metrics_service.domain.layer import LayerData
from metrics_service.domain.travel import Rep


async def alignment(session: AsyncSession, tenant_id: str, alignment_id: str) -> AlignmentProjectionRecord | None:
    row = await session.get(AlignmentProjectionRecord, alignment_id)
    return row if row is not None and row.tenant_id == tenant_id and not row.deleted else None


async def alignments(
    session: AsyncSession, tenant_id: str | None = None, state: str | None = None
) -> Sequence[AlignmentProjectionRecord]:
    query = select(AlignmentProjectionRecord).where(AlignmentProjectionRecord.deleted.is_(False))
    if tenant_id is not None:
        query = query.where(AlignmentProjectionRecord.tenant_id == tenant_id)
    if state is not None:
        query = query.where(AlignmentProjectionRecord.state == state)
    return (await session.execute(query.order_by(AlignmentProjectionRecord.alignment_id))).scalars().all()


async def layer_data(session: AsyncSession, tenant_id: str, layer_id: str) -> LayerData | None:
    layer = await session.get(LayerProjectionRecord, layer_id)
    if layer is None or layer.tenant_id != tenant_id:
        return None
    rows = (
        await session.execute(
            # The attributes as text, decoded with the shapes in a worker thread: for 30,000+ units that is most of
            # a second the event loop (every other request of the process) would otherwise wait for.
            select(UnitProjectionRecord.unit_id, cast(UnitProjectionRecord.attributes, Text), UnitProjectionRecord.wkb)
            .where(UnitProjectionRecord.layer_id == layer_id)
            .order_by(UnitProjectionRecord.idx)
        )
    ).all()

    def build() -> LayerData:
        geoms = shapely.from_wkb([bytes(r[2]) for r in rows]) if rows else np.zeros(0, dtype=object)
        attributes = [json.loads(r[1]) if r[1] else {} for r in rows]
        return LayerData.build(layer_id, [r[0] for r in rows], attributes, geoms, layer.attributes)

    return await asyncio.to_thread(build)


async def memberships(
    session: AsyncSession, tenant_id: str, alignment_id: str, after_revision: int = 0
) -> dict[str, str | None]:
    # Memberships carry no tenant of their own: their alignment's says whose they are.
    rows = await session.execute(
        select(MembershipRecord.unit_id, MembershipRecord.territory_id)
        .join(AlignmentProjectionRecord, AlignmentProjectionRecord.alignment_id == MembershipRecord.alignment_id)
        .where(
            AlignmentProjectionRecord.tenant_id == tenant_id,
            MembershipRecord.alignment_id == alignment_id,
            MembershipRecord.revision > after_revision,
        )
    )
    return {r.unit_id: r.territory_id for r in rows}


async def territories(session: AsyncSession, tenant_id: str, alignment_id: str) -> list[TerritoryNode]:
    rows = (
        await session.execute(
            select(TerritoryProjectionRecord).where(
                TerritoryProjectionRecord.tenant_id == tenant_id,
                TerritoryProjectionRecord.alignment_id == alignment_id,
                TerritoryProjectionRecord.deleted.is_(False),
            )
        )
    ).scalars()
    return [TerritoryNode(r.territory_id, r.code, r.name, r.parent_id) for r in rows]


async def tenant_revision(session: AsyncSession, tenant_id: str) -> tuple[int, int]:
    row = await session.get(TenantRevisionRecord, tenant_id)
    return (row.accounts, row.rosters) if row is not None else (0, 0)


async def active_layer(session: AsyncSession, tenant_id: str, sales_force: str) -> str | None:
    """The layer of the sales force's active alignment: the one its owners' ``unit_id`` belong to."""
    row = (
        await session.execute(
            select(AlignmentProjectionRecord.layer_id).where(
                AlignmentProjectionRecord.tenant_id == tenant_id,
                AlignmentProjectionRecord.sales_force == sales_force,
                AlignmentProjectionRecord.state == "active",
                AlignmentProjectionRecord.deleted.is_(False),
            )
        )
    ).first()
    return row[0] if row is not None else None


async def owned_accounts(
    session: AsyncSession, tenant_id: str, sales_force: str, layer: LayerData, units_from_layer: str | None
) -> OwnedSums | None:
    """The tenant's live accounts summed by owner in the sales force, over ``layer``; None without accounts.

    An account whose territory follows its unit is counted in the unit its owner's service located it in, when
    those units are ``layer``'s (``units_from_layer``), else in the unit of ``layer`` that holds its location; an
    account pinned to a territory counts in that territory's code. An account no owner was told for yet (a new
    sales force) follows geography.
    """
    rows = (
        await session.execute(
            select(
                AccountProjectionRecord.account_id,
                AccountProjectionRecord.lon,
                AccountProjectionRecord.lat,
                # As text, decoded in the worker thread below (50,000 accounts: half a second of the event loop).
                cast(AccountProjectionRecord.values, Text),
            ).where(AccountProjectionRecord.tenant_id == tenant_id, AccountProjectionRecord.deleted.is_(False))
        )
    ).all()
    if not rows:
        return None
    owners = {
        r.account_id: r
        for r in await session.execute(
            select(
                OwnershipRecord.account_id,
                OwnershipRecord.territory_code,
                OwnershipRecord.unit_id,
                OwnershipRecord.by_geography,
            ).where(OwnershipRecord.tenant_id == tenant_id, OwnershipRecord.sales_force == sales_force)
        )
    }
    return await asyncio.to_thread(_owned_sums, rows, owners, layer, units_from_layer)


def _owned_sums(
    rows: Sequence[Any], owners: dict[str, Any], layer: LayerData, units_from_layer: str | None
) -> OwnedSums:
    accounts = [_Account(r[0], r[1], r[2], json.loads(r[3]) if r[3] else {}) for r in rows]
    same_units = units_from_layer == layer.layer_id
    unit = np.full(len(accounts), LOCATE, dtype=np.int64)
    follows = np.ones(len(accounts), dtype=bool)
    pinned: list[str | None] = [None] * len(accounts)
    for i, a in enumerate(accounts):
        owner = owners.get(a.account_id)
        if owner is None:
            continue
        if not owner.by_geography:
            follows[i], pinned[i] = False, owner.territory_code
        elif same_units and owner.unit_id is not None:
            unit[i] = layer.index.get(owner.unit_id, LOCATE)
    fields = sorted({k for a in accounts for k in a.values})
    values = {f: np.array([float(a.values.get(f) or 0.0) for a in accounts]) for f in fields}
    lon = np.array([a.lon if a.lon is not None else np.nan for a in accounts], dtype=float)
    lat = np.array([a.lat if a.lat is not None else np.nan for a in accounts], dtype=float)
    return owned_sums(layer, lon, lat, values, unit, pinned, follows)


@dataclass
class _Account:
    account_id: str
    lon: float | None
    lat: float | None
    values: dict[str, Any]


@dataclass
class Rosters:
    reps: dict[str, list[Rep]]  # territory code -> its reps on the day
    primary: dict[str, str]  # territory code -> its primary rep on the day


async def rosters(session: AsyncSession, tenant_id: str, sales_force: str, on: date) -> Rosters:
    """The roster entries in effect on ``on`` whose rep is active: each territory's reps and primary rep (the
    latest start wins, then the smallest rep external id: as assignment-service picks)."""
    E = RosterEntryProjectionRecord
    rows = (
        await session.execute(
            select(E, RepProjectionRecord)
            .join(RepProjectionRecord, RepProjectionRecord.rep_id == E.rep_id)
            .where(
                E.tenant_id == tenant_id,
                E.sales_force == sales_force,
                E.effective_from <= on,
                or_(E.effective_to.is_(None), E.effective_to > on),
                RepProjectionRecord.tenant_id == tenant_id,
                RepProjectionRecord.active.is_(True),
            )
        )
    ).all()
    out = Rosters({}, {})
    seen: set[tuple[str, str]] = set()
    for entry, rep in sorted(
        rows, key=lambda r: (r[0].territory_code, -r[0].effective_from.toordinal(), r[0].rep_external_id or "")
    ):
        code = entry.territory_code
        if entry.role == "primary":
            out.primary.setdefault(code, rep.rep_id)
        if (code, rep.rep_id) not in seen:
            seen.add((code, rep.rep_id))
            out.reps.setdefault(code, []).append(Rep(rep.rep_id, rep.home_lon, rep.home_lat, rep.capacity_hours))
    return out


async def snapshots(
    session: AsyncSession, tenant_id: str, *, alignment_id: str | None = None, sales_force: str | None = None
) -> Sequence[SnapshotRecord]:
    """The snapshots of one alignment, or of a sales force's active alignments, oldest first."""
    query = select(SnapshotRecord).where(SnapshotRecord.tenant_id == tenant_id)
    if alignment_id is not None:
        query = query.where(SnapshotRecord.alignment_id == alignment_id)
    if sales_force is not None:
        query = query.where(SnapshotRecord.sales_force == sales_force)
    return (await session.execute(query.order_by(SnapshotRecord.taken_at))).scalars().all()


async def snapshot_taken(session: AsyncSession, alignment_id: str, reason: str, day: str) -> bool:
    query = select(SnapshotRecord.id).where(
        SnapshotRecord.alignment_id == alignment_id, SnapshotRecord.reason == reason, SnapshotRecord.day == day
    )
    return (await session.execute(query)).first() is not None


async def balance_flags(session: AsyncSession, alignment_id: str) -> dict[tuple[str, str], BalanceFlagRecord]:
    """The alignment's balance flags by (territory, metric)."""
    query = select(BalanceFlagRecord).where(BalanceFlagRecord.alignment_id == alignment_id)
    return {(f.territory_id, f.metric): f for f in (await session.execute(query)).scalars()}


async def resolve_alert(session: AsyncSession, alignment_id: str, territory_id: str, metric: str, at: datetime) -> None:
    """The territory came back within tolerance on ``metric``: its open alert is resolved ``at``."""
    await session.execute(
        update(BalanceAlertRecord)
        .where(
            BalanceAlertRecord.alignment_id == alignment_id,
            BalanceAlertRecord.territory_id == territory_id,
            BalanceAlertRecord.metric == metric,
            BalanceAlertRecord.resolved_at.is_(None),
        )
        .values(resolved_at=at)
    )


async def alerts(
    session: AsyncSession,
    tenant_id: str,
    state: Literal["current", "past", "all"],
    sales_force: str | None,
    metric: str | None,
    limit: int,
    offset: int,
) -> list[Any]:
    """Alerts newest first, each with whether it is current (still out, on an active alignment)."""
    A, P = BalanceAlertRecord, AlignmentProjectionRecord
    active = and_(A.resolved_at.is_(None), P.state == "active", P.deleted.is_(False))
    q = (
        select(A, active.label("current"))
        .join(P, P.alignment_id == A.alignment_id, isouter=True)
        .where(A.tenant_id == tenant_id)
    )
    if state == "current":
        q = q.where(active)
    elif state == "past":
        q = q.where(~active)
    if sales_force is not None:
        q = q.where(A.sales_force == sales_force)
    if metric is not None:
        q = q.where(A.metric == metric)
    q = q.order_by(A.detected_at.desc(), A.id).limit(limit).offset(offset)
    return list((await session.execute(q)).all())
