"""Accounts, reps and rosters, fed by ``assignment.*`` events.

An account counts in the unit that holds its location (found when metrics are computed), so the
projection keeps only where it is and its numbers. A territory's roster is the set of reps that own its
accounts (from ``assignment.account.reassigned.v1``), by sales force and territory code, so it applies to
every alignment of that sales force, drafts included.
"""

from __future__ import annotations

import logging

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


async def _bump(session: AsyncSession, tenant_id: str, accounts: int = 0, rosters: int = 0) -> None:
    row = await session.get(TenantRevisionRecord, tenant_id)
    if row is None:
        session.add(TenantRevisionRecord(tenant_id=tenant_id, accounts=accounts, rosters=rosters))
        await session.flush()
    else:
        row.accounts += accounts
        row.rosters += rosters


class AccountProjections:
    def __init__(self, hours_per_visit: float) -> None:
        self.hours_per_visit = hours_per_visit

    async def on_account_upserted(self, session: AsyncSession, event: CloudEvent) -> None:
        from territory_shared.events.assignment import AccountUpsertedV1

        data = AccountUpsertedV1.model_validate(event.data)
        row = await session.get(AccountProjectionRecord, data.account_id)
        if row is not None and data.version <= row.version:
            log.info("stale %s v%s for account %s ignored", event.type, data.version, data.account_id)
            return
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
        if row is None:
            row = AccountProjectionRecord(account_id=data.account_id, tenant_id=event.tenantid, deleted=False)
            session.add(row)
        row.external_id, row.lon, row.lat, row.values = data.external_id, data.lon, data.lat, values
        row.version, row.deleted = data.version, False
        await _bump(session, event.tenantid, accounts=1)

    async def on_account_deleted(self, session: AsyncSession, event: CloudEvent) -> None:
        from territory_shared.events.assignment import AccountDeletedV1

        data = AccountDeletedV1.model_validate(event.data)
        row = await session.get(AccountProjectionRecord, data.account_id)
        if row is not None and data.version <= row.version:
            return
        if row is None:
            # Deleted before its upsert arrived (a replay, a redelivery out of order): keep a tombstone at this
            # version, so the older upsert that comes later is recognised as stale instead of reviving it.
            row = AccountProjectionRecord(
                account_id=data.account_id, tenant_id=event.tenantid, external_id=data.external_id, values={}
            )
            session.add(row)
        row.deleted, row.version = True, data.version
        await _bump(session, event.tenantid, accounts=1)

    async def on_rep_upserted(self, session: AsyncSession, event: CloudEvent) -> None:
        from territory_shared.events.assignment import RepUpsertedV1

        data = RepUpsertedV1.model_validate(event.data)
        row = await session.get(RepProjectionRecord, data.rep_id)
        if row is not None and data.version <= row.version:
            log.info("stale %s v%s for rep %s ignored", event.type, data.version, data.rep_id)
            return
        if row is None:
            row = RepProjectionRecord(rep_id=data.rep_id, tenant_id=event.tenantid)
            session.add(row)
        row.version = data.version
        row.home_lon, row.home_lat = data.home_lon, data.home_lat
        row.capacity_hours = float(data.capacity_hours or 0.0) if data.active else 0.0
        await _bump(session, event.tenantid, rosters=1)

    async def on_account_reassigned(self, session: AsyncSession, event: CloudEvent) -> None:
        from territory_shared.events.assignment import AccountReassignedV1

        data = AccountReassignedV1.model_validate(event.data)
        for code, rep, step in (
            (data.from_territory_code, data.from_rep_id, -1),
            (data.to_territory_code, data.to_rep_id, +1),
        ):
            if code is None or rep is None:
                continue
            key = {"tenant_id": event.tenantid, "sales_force": data.sales_force, "territory_code": code, "rep_id": rep}
            row = (await session.execute(select(RosterRecord).filter_by(**key))).scalar_one_or_none()
            if row is None:
                session.add(RosterRecord(**key, accounts=max(step, 0)))
                await session.flush()
            else:
                row.accounts = max(row.accounts + step, 0)
        account = await session.get(AccountProjectionRecord, data.account_id)
        if account is not None:
            account.territory_id, account.rep_id = data.to_territory_code, data.to_rep_id
        await _bump(session, event.tenantid, rosters=1)
