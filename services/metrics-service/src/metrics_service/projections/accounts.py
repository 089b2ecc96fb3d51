"""Accounts, their owners, reps and rosters, fed by ``assignment.*`` events.

An account's owner in each sales force comes from ``assignment.account.reassigned.v1`` (every change is told,
the first assignment included), with the unit it lies in and whether its territory follows that unit: metrics
count accounts by owner, and say what another alignment of the sales force would do to them. A territory's
roster is what ``assignment.roster.changed.v1`` last told (dated entries; a reader picks the day), by sales
force and territory code, so it applies to every alignment of that sales force, drafts included.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TypeVar

from pydantic import BaseModel
from sqlalchemy import and_, delete, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from territory_shared.events.envelope import CloudEvent

from metrics_service.db.records import (
    AccountProjectionRecord,
    OwnershipRecord,
    RepProjectionRecord,
    RosterEntryProjectionRecord,
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
    name = key.key
    assert name is not None  # a mapped table's primary key column has a name
    rows = (await session.execute(select(record).where(key.in_(ids)))).scalars()
    return {getattr(r, name): r for r in rows}


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
            row.active = data.active
            row.name = data.name
            applied[event.tenantid] += 1
        await _bump(session, applied, "rosters")

    async def on_accounts_reassigned(self, session: AsyncSession, events: Sequence[CloudEvent]) -> None:
        """Each account's newest owner per sales force. An account's events share its key, so they arrive in
        order; a redelivered one is stopped by the inbox."""
        from territory_shared.events.assignment import AccountReassignedV1

        datas = [AccountReassignedV1.model_validate(e.data) for e in events]
        keys = {(e.tenantid, d.sales_force, d.account_id) for e, d in zip(events, datas, strict=True)}
        rows: dict[tuple[str, str, str], OwnershipRecord] = {}
        key_list = sorted(keys)
        for start in range(0, len(key_list), 1000):
            chunk = key_list[start : start + 1000]
            q = select(OwnershipRecord).where(
                tuple_(OwnershipRecord.tenant_id, OwnershipRecord.sales_force, OwnershipRecord.account_id).in_(chunk)
            )
            for r in (await session.execute(q)).scalars():
                rows[(r.tenant_id, r.sales_force, r.account_id)] = r
        applied: Counter[str] = Counter()
        for event, data in zip(events, datas, strict=True):
            key = (event.tenantid, data.sales_force, data.account_id)
            row = rows.get(key)
            if row is None:
                row = rows[key] = OwnershipRecord(tenant_id=key[0], sales_force=key[1], account_id=key[2])
                session.add(row)
            row.territory_code, row.rep_id = data.to_territory_code, data.to_rep_id
            row.unit_id, row.by_geography, row.cause = data.unit_id, data.by_geography, data.cause
            applied[event.tenantid] += 1
        # Owners decide which territory an account counts in: the tenant's account sums are rebuilt.
        await _bump(session, applied, "accounts")

    async def on_rosters_changed(self, session: AsyncSession, events: Sequence[CloudEvent]) -> None:
        """The newest roster of each territory replaces what was there (events of one territory share its key)."""
        from territory_shared.events.assignment import RosterChangedV1

        latest: dict[tuple[str, str, str], RosterChangedV1] = {}
        applied: Counter[str] = Counter()
        for event in events:
            data = RosterChangedV1.model_validate(event.data)
            latest[(event.tenantid, data.sales_force, data.territory_code)] = data
            applied[event.tenantid] += 1
        T = RosterEntryProjectionRecord
        await session.execute(
            delete(T).where(
                or_(*(and_(T.tenant_id == t, T.sales_force == sf, T.territory_code == c) for t, sf, c in latest))
            )
        )
        await session.flush()
        for (tenant_id, sales_force, code), data in latest.items():
            for e in data.entries:
                session.add(
                    T(
                        tenant_id=tenant_id,
                        entry_id=e.entry_id,
                        sales_force=sales_force,
                        territory_code=code,
                        rep_id=e.rep_id,
                        rep_external_id=e.rep_external_id,
                        role=e.role,
                        effective_from=e.effective_from,
                        effective_to=e.effective_to,
                    )
                )
        await _bump(session, applied, "rosters")
