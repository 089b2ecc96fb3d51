"""Accounts, reps and rosters, fed by ``assignment.*`` events.

An account counts in the unit that holds its location (found when metrics are computed), so the
projection keeps only where it is and its numbers. A territory's roster is the set of reps that own its
accounts (from ``assignment.account.reassigned.v1``), by sales force and territory code, so it applies to
every alignment of that sales force, drafts included.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TypeVar

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from territory_shared.events.envelope import CloudEvent

from metrics_service.db.records import (
    AccountProjectionRecord,
    RepProjectionRecord,
    RosterRecord,
    TenantRevisionRecord,
)

log = logging.getLogger(__name__)
R = TypeVar("R", AccountProjectionRecord, RepProjectionRecord)
D = TypeVar("D", bound=BaseModel)


async def _bump(session: AsyncSession, tenants: Counter[str], what: str) -> None:
    """Add each tenant's number of applied events to its revision's ``what`` counter."""
    for tenant_id, n in tenants.items():
        row = await session.get(TenantRevisionRecord, tenant_id)
        if row is None:
            session.add(TenantRevisionRecord(tenant_id=tenant_id, **({"accounts": 0, "rosters": 0} | {what: n})))
            await session.flush()
        else:
            setattr(row, what, getattr(row, what) + n)


async def _by_id(session: AsyncSession, record: type[R], ids: set[str]) -> dict[str, R]:
    """The projected rows of these ids, in one query (and in the session, so changes to them are flushed)."""
    key = record.__mapper__.primary_key[0]
    rows = (await session.execute(select(record).where(key.in_(ids)))).scalars()
    return {getattr(r, key.key): r for r in rows}


async def _newer(
    session: AsyncSession,
    record: type[R],
    events: Sequence[CloudEvent],
    model: type[D],
    id_of: Callable[[D], str],
    create: Callable[[CloudEvent, D], R],
) -> AsyncIterator[tuple[CloudEvent, D, R]]:
    """Each event newer than its projected row, in order, with that row (made by ``create`` when there is none
    yet, and added to the session); a stale or redelivered event is passed over."""
    datas = [model.model_validate(e.data) for e in events]
    rows = await _by_id(session, record, {id_of(d) for d in datas})
    for event, data in zip(events, datas, strict=True):
        row = rows.get(id_of(data))
        if row is not None and data.version <= row.version:  # type: ignore[attr-defined]
            log.info("stale %s v%s for %s ignored", event.type, data.version, id_of(data))  # type: ignore[attr-defined]
            continue
        if row is None:
            row = rows[id_of(data)] = create(event, data)
            session.add(row)
        yield event, data, row


class AccountProjections:
    """Each handler applies a run of consecutive events of its type (``Batched``): one query per table for the
    run, then the events one by one, in order, on the rows in memory."""

    def __init__(self, hours_per_visit: float) -> None:
        self.hours_per_visit = hours_per_visit

    async def on_accounts_upserted(self, session: AsyncSession, events: Sequence[CloudEvent]) -> None:
        from territory_shared.events.assignment import AccountUpsertedV1

        applied: Counter[str] = Counter()
        async for event, data, row in _newer(
            session,
            AccountProjectionRecord,
            events,
            AccountUpsertedV1,
            lambda d: d.account_id,
            lambda e, d: AccountProjectionRecord(account_id=d.account_id, tenant_id=e.tenantid, deleted=False),
        ):
            workload = data.workload_hours
            if workload is None and data.visits_per_year is not None:
                workload = data.visits_per_year * self.hours_per_visit
            values = {
                k: float(v)
                for k, v in {
                    "potential": data.potential,
                    "revenue": data.revenue,
                    "workload_hours": workload,
                    "visits_per_year": data.visits_per_year,
                }.items()
                if v is not None
            }
            # Custom numeric fields, if the contract carries any (extra members of the event data).
            for k, v in event.data.items():
                if k.startswith("custom_") and isinstance(v, int | float):
                    values[k.removeprefix("custom_")] = float(v)
            row.external_id, row.lon, row.lat, row.values = data.external_id, data.lon, data.lat, values
            row.version, row.deleted = data.version, False
            applied[event.tenantid] += 1
        await _bump(session, applied, "accounts")

    async def on_accounts_deleted(self, session: AsyncSession, events: Sequence[CloudEvent]) -> None:
        from territory_shared.events.assignment import AccountDeletedV1

        applied: Counter[str] = Counter()
        # Deleted before its upsert arrived (a replay, a redelivery out of order): a tombstone at this version,
        # so the older upsert that comes later is recognised as stale instead of reviving it.
        async for event, data, row in _newer(
            session,
            AccountProjectionRecord,
            events,
            AccountDeletedV1,
            lambda d: d.account_id,
            lambda e, d: AccountProjectionRecord(
                account_id=d.account_id, tenant_id=e.tenantid, external_id=d.external_id, values={}
            ),
        ):
            row.deleted, row.version = True, data.version
            applied[event.tenantid] += 1
        await _bump(session, applied, "accounts")

    async def on_reps_upserted(self, session: AsyncSession, events: Sequence[CloudEvent]) -> None:
        from territory_shared.events.assignment import RepUpsertedV1

        applied: Counter[str] = Counter()
        async for event, data, row in _newer(
            session,
            RepProjectionRecord,
            events,
            RepUpsertedV1,
            lambda d: d.rep_id,
            lambda e, d: RepProjectionRecord(rep_id=d.rep_id, tenant_id=e.tenantid),
        ):
            row.version = data.version
            row.home_lon, row.home_lat = data.home_lon, data.home_lat
            row.capacity_hours = float(data.capacity_hours or 0.0) if data.active else 0.0
            applied[event.tenantid] += 1
        await _bump(session, applied, "rosters")

    async def on_accounts_reassigned(self, session: AsyncSession, events: Sequence[CloudEvent]) -> None:
        from territory_shared.events.assignment import AccountReassignedV1

        datas = [AccountReassignedV1.model_validate(e.data) for e in events]
        accounts = await _by_id(session, AccountProjectionRecord, {d.account_id for d in datas})
        rosters: dict[tuple[str, str, str, str], RosterRecord] = {}
        for tenant_id in {e.tenantid for e in events}:
            forces = {d.sales_force for e, d in zip(events, datas, strict=True) if e.tenantid == tenant_id}
            q = select(RosterRecord).where(RosterRecord.tenant_id == tenant_id, RosterRecord.sales_force.in_(forces))
            for r in (await session.execute(q)).scalars():
                rosters[(r.tenant_id, r.sales_force, r.territory_code, r.rep_id)] = r
        applied: Counter[str] = Counter()
        for event, data in zip(events, datas, strict=True):
            for code, rep, step in (
                (data.from_territory_code, data.from_rep_id, -1),
                (data.to_territory_code, data.to_rep_id, +1),
            ):
                if code is None or rep is None:
                    continue
                key = (event.tenantid, data.sales_force, code, rep)
                row = rosters.get(key)
                if row is None:
                    row = RosterRecord(
                        tenant_id=key[0], sales_force=key[1], territory_code=key[2], rep_id=key[3], accounts=0
                    )
                    session.add(row)
                    rosters[key] = row
                row.accounts = max(row.accounts + step, 0)
            account = accounts.get(data.account_id)
            if account is not None:
                account.territory_id, account.rep_id = data.to_territory_code, data.to_rep_id
            applied[event.tenantid] += 1
        await _bump(session, applied, "rosters")
