"""Reps and rosters: upsert, deactivate, delete (kept with their history), roster entries with dates.

A change that can change who owns accounts recomputes only the accounts of the territories involved.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from territory_shared.audit import current_actor
from territory_shared.errors import BadRequest, InvalidInput, NotFound
from territory_shared.events.assignment import RepUpsertedV1, RosterChangedV1, RosterEntry

from assignment_service.db.records import RepRecord, RosterEntryRecord
from assignment_service.db.unit_of_work import UnitOfWork
from assignment_service.use_cases.assign import load_plan, reassign_ids, sales_force_record
from assignment_service.use_cases.ports import GeoClient
from assignment_service.use_cases.territory_codes import require_territory


@dataclass
class RepInput:
    name: str | None
    home_lat: float | None
    home_lon: float | None
    capacity_hours: float | None
    role: str | None
    active: bool


async def reassign_territories(
    uow: UnitOfWork, tenant_id: str, pairs: list[tuple[str, str]], trigger: str, today: date | None = None
) -> int:
    """Recompute the accounts of (sales force, territory code) pairs with the roster in effect on ``today``."""
    moved = 0
    by_sf: dict[str, list[str]] = {}
    for sf, code in pairs:
        by_sf.setdefault(sf, []).append(code)
    for sf_name, codes in by_sf.items():
        record = await sales_force_record(uow, tenant_id, sf_name)
        plan = await load_plan(uow, tenant_id, record, today)
        ids = await uow.assignments.account_ids_in_territories(tenant_id, sf_name, codes)
        moved += await reassign_ids(uow, tenant_id, plan, ids, trigger=trigger)
    return moved


async def upsert_rep(uow: UnitOfWork, tenant_id: str, external_id: str, data: RepInput) -> tuple[RepRecord, bool]:
    async with uow:
        rep = await uow.reps.get(tenant_id, external_id)
        now = datetime.now(UTC)
        created = rep is None
        if rep is None:
            rep = RepRecord(id=str(uuid.uuid4()), tenant_id=tenant_id, external_id=external_id, version=0)
            uow.reps.add(rep)
        was_active = rep.active if not created and rep.deleted_at is None else None
        for key, value in vars(data).items():
            setattr(rep, key, value)
        rep.deleted_at = None
        rep.version += 1
        rep.updated_at = now
        await uow.flush()
        _emit(uow, tenant_id, rep)
        if was_active is not None and was_active != rep.active:
            await reassign_territories(uow, tenant_id, await uow.reps.territories_of_rep(tenant_id, rep.id), "rep")
        await uow.commit()
        return rep, created


def _emit(uow: UnitOfWork, tenant_id: str, rep: RepRecord) -> None:
    uow.emit(
        tenant_id,
        rep.id,
        RepUpsertedV1(
            rep_id=rep.id,
            external_id=rep.external_id,
            version=rep.version,
            name=rep.name,
            capacity_hours=rep.capacity_hours,
            role=rep.role,
            active=rep.active and rep.deleted_at is None,
            home_lat=rep.home_lat,
            home_lon=rep.home_lon,
        ),
    )


async def delete_rep(uow: UnitOfWork, tenant_id: str, external_id: str) -> None:
    """Soft delete: the rep stops owning accounts; the rep, its roster entries and the history stay."""
    async with uow:
        rep = await uow.reps.get(tenant_id, external_id)
        if rep is None or rep.deleted_at is not None:
            raise NotFound(f"Rep {external_id} does not exist.")
        rep.deleted_at, rep.active = datetime.now(UTC), False
        rep.version += 1
        await uow.flush()
        _emit(uow, tenant_id, rep)
        await reassign_territories(uow, tenant_id, await uow.reps.territories_of_rep(tenant_id, rep.id), "rep")
        await uow.commit()


async def emit_roster(uow: UnitOfWork, tenant_id: str, sales_force: str, territory_code: str) -> None:
    """Tell the territory's whole roster as it is now (``assignment.roster.changed.v1``), dated entries included:
    projections read rosters from this event, never from who happens to own accounts."""
    rows = await uow.reps.entries(tenant_id, sales_force, territory_code, None)
    uow.emit(
        tenant_id,
        f"{sales_force}/{territory_code}",
        RosterChangedV1(
            sales_force=sales_force,
            territory_code=territory_code,
            entries=[
                RosterEntry(
                    entry_id=r.id,
                    rep_id=r.rep_id,
                    rep_external_id=r.rep_external_id,
                    role=r.role,
                    effective_from=r.effective_from,
                    effective_to=r.effective_to,
                )
                for r in rows
            ],
        ),
    )


async def add_roster_entry(
    uow: UnitOfWork,
    geo: GeoClient,
    tenant_id: str,
    *,
    sales_force: str,
    territory_code: str,
    rep_external_id: str,
    role: str,
    effective_from: date | None,
    effective_to: date | None,
) -> RosterEntryRecord:
    await require_territory(geo, tenant_id, sales_force, territory_code, "territory_code")
    async with uow:
        rep = await uow.reps.get(tenant_id, rep_external_id)
        if rep is None or rep.deleted_at is not None:
            raise NotFound(f"Rep {rep_external_id} does not exist.", field="rep_external_id")
        now = datetime.now(UTC)
        start = effective_from or now.date()
        if effective_to is not None and effective_to <= start:
            raise BadRequest("effective_to must be after effective_from", field="effective_to")
        if role == "primary":
            await _refuse_a_second_primary(uow, tenant_id, sales_force, territory_code, rep.id, start, effective_to)
        entry = RosterEntryRecord(
            id=str(uuid.uuid4()),
            tenant_id=tenant_id,
            sales_force=sales_force,
            territory_code=territory_code,
            rep_id=rep.id,
            role=role,
            effective_from=start,
            effective_to=effective_to,
            created_at=now,
            created_by=current_actor(),
            # A date that has come is applied now, by the recompute below; a later one by the roster-dates
            # worker when it comes (use_cases/roster_dates.py).
            start_applied_at=now if start <= now.date() else None,
            end_applied_at=now if effective_to is not None and effective_to <= now.date() else None,
        )
        uow.reps.add_entry(entry)
        await uow.flush()
        await emit_roster(uow, tenant_id, sales_force, territory_code)
        await reassign_territories(uow, tenant_id, [(sales_force, territory_code)], "roster")
        await uow.commit()
        return entry


async def _refuse_a_second_primary(
    uow: UnitOfWork, tenant_id: str, sales_force: str, territory_code: str, rep_id: str, start: date, end: date | None
) -> None:
    # Two primary reps at once would leave who owns the territory's accounts to a tie-break nobody chose.
    # Only active reps count: a deactivated rep's entry is kept for history and holds nothing.
    clash = await uow.reps.primary_entry_overlapping(tenant_id, sales_force, territory_code, start, end, rep_id)
    if clash is None:
        return
    until = f"until {clash.effective_to}" if clash.effective_to else "with no end"
    raise InvalidInput(
        f"{territory_code} of {sales_force} already has a primary rep from {clash.effective_from} {until} "
        f"(roster entry {clash.id}): end that entry first, start this one after it, or add it as secondary.",
        field="role",
        conflicting_entry_id=clash.id,
    )


async def end_roster_entry(uow: UnitOfWork, tenant_id: str, entry_id: str, on: date | None) -> RosterEntryRecord:
    """End an entry (kept for history): from ``on`` (today by default) the rep no longer holds the territory."""
    async with uow:
        entry = await uow.reps.entry(tenant_id, entry_id)
        if entry is None:
            raise NotFound(f"Roster entry {entry_id} does not exist.")
        now = datetime.now(UTC)
        entry.effective_to = max(on or now.date(), entry.effective_from)
        entry.ended_at, entry.ended_by = now, current_actor()
        # An end moved to a later day (an entry ended twice) is applied again when that day comes.
        entry.end_applied_at = now if entry.effective_to <= now.date() else None
        await uow.flush()
        await emit_roster(uow, tenant_id, entry.sales_force, entry.territory_code)
        await reassign_territories(uow, tenant_id, [(entry.sales_force, entry.territory_code)], "roster")
        await uow.commit()
        return entry
