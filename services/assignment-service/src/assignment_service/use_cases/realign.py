"""Realignment: apply a published alignment, preview a draft, recompute a whole sales force.

On ``geo.alignment.published.v1`` the accounts in the changed units move (incremental, when the new alignment
uses the layer the sales force's accounts were located in), or every account is located again (a new sales
force, or another layer). Every change goes to the history with the run's id and is announced; when the last
part of the event is applied, one ``assignment.realignment.completed.v1`` notice summarises the run per rep
and per territory, and a delivery is queued for each registered webhook in the same transaction.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from territory_shared.audit import current_actor
from territory_shared.events.assignment import (
    AccountReassignedV1,
    RealignmentCompletedV1,
    RepChange,
    TerritoryChange,
)
from territory_shared.events.geo import AlignmentPublishedV1

from assignment_service.db.records import RealignmentRunRecord
from assignment_service.db.unit_moves import UnitMoves, chunks_of_units
from assignment_service.db.unit_of_work import UnitOfWork
from assignment_service.domain.assignment import GeoAnswer
from assignment_service.use_cases.assign import (
    Move,
    Plan,
    load_plan,
    locate_accounts,
    reassign,
    reassigned_data,
    sales_force_record,
)
from assignment_service.use_cases.ports import GeoClient
from assignment_service.use_cases.webhooks import queue_deliveries

# Accounts read, located and written per step: few enough to hold in memory, many enough that each statement
# and each geo-service call carries real work.
PAGE = 20_000
log = logging.getLogger(__name__)

ProgressFn = Callable[[str, float, str | None], Awaitable[None]]


async def apply_published_alignment(
    uow: UnitOfWork, geo: GeoClient, tenant_id: str, data: AlignmentPublishedV1
) -> None:
    # Asked before the tenant's accounts are locked: waiting for geo-service holds up no other writer.
    info = await geo.alignment(tenant_id, data.alignment_id)
    async with uow:
        await uow.lock_accounts(tenant_id)
        run = await uow.runs.run_for(tenant_id, data.alignment_id, data.version)
        if run is not None and data.part in run.parts_done:
            return
        if run is None and await uow.runs.superseded(tenant_id, data.sales_force, data.alignment_id):
            # Published alignments of one sales force travel under different keys, so on different partitions:
            # this one's publication can arrive after its successor's, and must not undo it.
            log.info("publication of %s arrived after its successor's; ignored", data.alignment_id)
            return
        sf = await sales_force_record(uow, tenant_id, data.sales_force)
        if run is None:
            layer_id = info.layer_id if info else None
            incremental = (
                sf.alignment_id is not None
                and sf.alignment_id == data.previous_alignment_id
                and sf.layer_id is not None
                and sf.layer_id == layer_id
            )
            run = RealignmentRunRecord(
                id=str(uuid.uuid4()),
                tenant_id=tenant_id,
                sales_force=data.sales_force,
                alignment_id=data.alignment_id,
                alignment_version=data.version,
                previous_alignment_id=data.previous_alignment_id,
                mode="incremental" if incremental else "full",
                parts=data.parts,
                parts_done=[],
                status="running",
                accounts_moved=0,
                started_at=datetime.now(UTC),
                started_by=current_actor(),  # the publisher: the consumer acts for whoever the event says
            )
            uow.runs.add(run)
            sf.alignment_id, sf.alignment_version, sf.layer_id = data.alignment_id, data.version, layer_id
            sf.updated_at = datetime.now(UTC)
            await uow.flush()
            plan = await load_plan(uow, tenant_id, sf)
            if run.mode == "full":
                run.accounts_moved += await _relocate_all(uow, geo, tenant_id, plan, run.id, data.alignment_id)
        else:
            plan = await load_plan(uow, tenant_id, sf)
        if run.mode == "incremental":
            new_code = {c.unit_id: c.to_territory_code for c in data.changes}
            if plan.plan.rules is None and UnitMoves.available(uow.session):
                moved, ids = await _move_units(uow, tenant_id, plan, new_code, run.id, data.alignment_id)
                run.accounts_moved += moved
            else:
                ids = await uow.assignments.account_ids_in_units(tenant_id, sf.name, list(new_code))
            for start in range(0, len(ids), PAGE):
                accounts = await uow.accounts.by_ids(
                    tenant_id, ids[start : start + PAGE], with_custom=plan.plan.rules is not None
                )
                current = await uow.assignments.current(tenant_id, sf.name, [a.id for a in accounts])
                answers = {
                    a.id: GeoAnswer(current[a.id].geo_unit_id, new_code[current[a.id].geo_unit_id], data.alignment_id)
                    for a in accounts
                }
                moves = await reassign(
                    uow, tenant_id, plan, accounts, trigger="realignment", geo=answers, run_id=run.id, current=current
                )
                run.accounts_moved += len(moves)
            # Accounts in unchanged units keep their territory and their rows: the alignment they are in is the
            # sales force's (see AssignmentRepository.of_account), not rewritten on a million rows per publish.
        run.parts_done = [*run.parts_done, data.part]
        if len(set(run.parts_done)) >= run.parts:
            await _complete(uow, tenant_id, run)
        await uow.commit()


async def _move_units(
    uow: UnitOfWork, tenant_id: str, plan: Plan, new_code: dict[str, str | None], run_id: str, alignment_id: str
) -> tuple[int, list[str]]:
    """PostgreSQL, geography without rules: move the accounts of the changed units set-based (``UnitMoves``),
    a page of accounts per statement; return how many moved and the accounts left to the row-by-row path."""
    sf = plan.record.name
    units = UnitMoves(uow.session, tenant_id, sf)
    await units.stage(new_code, plan.plan.primary_rep)
    leftovers = await units.leftovers()
    moved, actor = 0, current_actor()
    for unit_ids in chunks_of_units(await units.accounts_per_unit(), PAGE):
        now = datetime.now(UTC)
        rows = await units.move(
            unit_ids, alignment_id=alignment_id, run_id=run_id, trigger="realignment", now=now, actor=actor
        )
        events = [
            reassigned_data(
                Move(r.account_id, r.external_id, r.from_territory, r.to_territory, r.from_rep, r.to_rep, 0.0),
                sf,
                r.cause,
                "realignment",
                run_id=run_id,
                alignment_id=alignment_id,
                plan=plan,
                unit_id=r.geo_unit_id,
                by_geography=True,
            )
            for r in rows
        ]
        uow.emit_many(tenant_id, AccountReassignedV1, [r.account_id for r in rows], events)
        await uow.stage_events()
        moved += len(rows)
    return moved, leftovers


async def _relocate_all(
    uow: UnitOfWork,
    geo: GeoClient,
    tenant_id: str,
    plan: Plan,
    run_id: str | None,
    alignment_id: str | None,
    progress: ProgressFn | None = None,
    trigger: str = "realignment",
) -> int:
    """Locate every live account again and recompute, page by page.

    The next page is located in geo-service while this one is decided and written, so the two services work
    at the same time instead of taking turns.
    """
    moved, done = 0, 0
    with_custom = plan.plan.rules is not None
    accounts = await uow.accounts.page(tenant_id, None, PAGE, with_custom=with_custom)
    located = asyncio.ensure_future(_locate(geo, tenant_id, accounts, alignment_id))
    try:
        while accounts:
            answers = await located
            following = await uow.accounts.page(tenant_id, accounts[-1].id, PAGE, with_custom=with_custom)
            located = asyncio.ensure_future(_locate(geo, tenant_id, following, alignment_id))
            moved += len(
                await reassign(
                    uow,
                    tenant_id,
                    plan,
                    accounts,
                    trigger=trigger,
                    geo=answers,
                    run_id=run_id,
                    alignment_id=alignment_id,
                )
            )
            done += len(accounts)
            accounts = following
            if progress is not None:
                await progress("assigning", min(95.0, 5 + done / 10_000), f"{done:,} accounts")
    finally:
        located.cancel()
    return moved


async def _locate(
    geo: GeoClient, tenant_id: str, accounts: Sequence[Any], alignment_id: str | None
) -> dict[str, GeoAnswer]:
    if alignment_id is None or not accounts:
        return {}
    answers, _, _ = await locate_accounts(geo, tenant_id, accounts, alignment_id=alignment_id)
    return answers


async def _complete(uow: UnitOfWork, tenant_id: str, run: RealignmentRunRecord) -> None:
    totals = [
        Flow(
            t.from_territory_code, t.to_territory_code, t.from_rep_id, t.to_rep_id, int(t.accounts), float(t.potential)
        )
        for t in await uow.assignments.run_totals(tenant_id, run.id)
    ]
    rep_ext = await uow.reps.external_ids(tenant_id)
    notice = RealignmentCompletedV1(
        run_id=run.id,
        sales_force=run.sales_force,
        alignment_id=run.alignment_id,
        alignment_version=run.alignment_version,
        previous_alignment_id=run.previous_alignment_id,
        accounts_moved=sum(f.accounts for f in totals),
        potential_moved=round(sum(f.potential for f in totals), 2),
        reps=summarise_reps(totals, rep_ext),
        territories=summarise_territories(totals),
    )
    run.status, run.completed_at, run.accounts_moved = "completed", datetime.now(UTC), notice.accounts_moved
    run.summary = notice.model_dump(mode="json")
    event = uow.emit(tenant_id, run.id, notice)
    await queue_deliveries(uow, tenant_id, event)


@dataclass(frozen=True)
class Flow:
    """Accounts that went from one (territory, rep) to another, and their potential."""

    from_territory: str | None
    to_territory: str | None
    from_rep: str | None
    to_rep: str | None
    accounts: int
    potential: float


def summarise_reps(moves: Iterable[Flow], rep_ext: dict[str, str]) -> list[RepChange]:
    acc: dict[str | None, list[float]] = defaultdict(lambda: [0, 0, 0.0, 0.0])
    for m in moves:
        if m.from_rep == m.to_rep:
            continue
        acc[m.to_rep][0] += m.accounts
        acc[m.to_rep][2] += m.potential
        acc[m.from_rep][1] += m.accounts
        acc[m.from_rep][3] += m.potential
    return [
        RepChange(
            rep_id=rep,
            rep_external_id=rep_ext.get(rep) if rep else None,
            accounts_gained=int(v[0]),
            accounts_lost=int(v[1]),
            potential_gained=round(v[2], 2),
            potential_lost=round(v[3], 2),
        )
        for rep, v in sorted(acc.items(), key=lambda kv: (kv[0] is None, rep_ext.get(kv[0] or "", kv[0] or "")))
    ]


def summarise_territories(moves: Iterable[Flow]) -> list[TerritoryChange]:
    acc: dict[str | None, list[float]] = defaultdict(lambda: [0, 0, 0.0, 0.0])
    for m in moves:
        if m.from_territory == m.to_territory:
            continue
        acc[m.to_territory][0] += m.accounts
        acc[m.to_territory][2] += m.potential
        acc[m.from_territory][1] += m.accounts
        acc[m.from_territory][3] += m.potential
    return [
        TerritoryChange(
            territory_code=code,
            accounts_gained=int(v[0]),
            accounts_lost=int(v[1]),
            potential_gained=round(v[2], 2),
            potential_lost=round(v[3], 2),
        )
        for code, v in sorted(acc.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
    ]


async def recompute_sales_force(
    uow: UnitOfWork, geo: GeoClient, tenant_id: str, sales_force: str, progress: ProgressFn
) -> dict[str, Any]:
    """Full recompute (a job): locate every account in the active alignment, apply rules and overrides."""
    async with uow:
        sf = await sales_force_record(uow, tenant_id, sales_force)
        located = await geo.locate(tenant_id, [], sales_force=sales_force)
        if located is not None and located.alignment_id != sf.alignment_id:
            info = await geo.alignment(tenant_id, located.alignment_id)
            sf.alignment_id, sf.alignment_version = located.alignment_id, located.alignment_version
            sf.layer_id = info.layer_id if info else None
        elif located is None:
            sf.alignment_id = sf.alignment_version = sf.layer_id = None
        await uow.flush()
        plan = await load_plan(uow, tenant_id, sf)
        await progress("assigning", 5, None)
        moved = await _relocate_all(
            uow, geo, tenant_id, plan, None, sf.alignment_id, progress=progress, trigger="recompute"
        )
        await progress("committing", 97, None)
        await uow.commit()
    counts: dict[str | None, int]
    async with uow:
        counts = await uow.assignments.count_by_territory(tenant_id, sales_force)
    return {
        "sales_force": sales_force,
        "alignment_id": sf.alignment_id,
        "accounts_moved": moved,
        "assigned": sum(n for c, n in counts.items() if c is not None),
        "unassigned": counts.get(None, 0),
    }
