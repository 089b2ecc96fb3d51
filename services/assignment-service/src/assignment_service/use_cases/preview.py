"""What publishing a draft would change, decided exactly as publishing decides it, with nothing written.

Publishing is incremental when the sales force's active alignment is on the draft's layer: only the accounts of
the units whose territory differs between the two move, each decided with its stored unit. The preview takes the
same path (a one-unit draft of a 50,000-account sales force reads the accounts of one unit), and otherwise, like a
sales force's first publish or a change of layer, locates every account in the draft. A first assignment counts
as a change from no owner, as the realignment notice counts it.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from territory_shared.errors import NotFound

from assignment_service.db import ownership
from assignment_service.db.records import SalesForceRecord
from assignment_service.db.unit_of_work import UnitOfWork
from assignment_service.domain.assignment import GeoAnswer, Override, account_facts
from assignment_service.use_cases.assign import Move, Plan, load_plan, locate_accounts
from assignment_service.use_cases.ports import GeoClient
from assignment_service.use_cases.realign import PAGE, Flow, summarise_reps, summarise_territories


async def preview_alignment(
    uow: UnitOfWork, geo: GeoClient, tenant_id: str, alignment_id: str, changes_listed: int = 1000
) -> dict[str, Any]:
    info = await geo.alignment(tenant_id, alignment_id)
    if info is None:
        raise NotFound(f"Alignment {alignment_id} does not exist.", field="alignment_id")
    moves: list[Move] = []
    async with uow:
        sf = await uow.assignments.sales_force(tenant_id, info.sales_force)
        if sf is None:
            sf = SalesForceRecord(tenant_id=tenant_id, name=info.sales_force)
        plan = await load_plan(uow, tenant_id, sf)
        plan.plan = type(plan.plan)(plan.plan.name, plan.plan.rules, plan.plan.primary_rep, True)
        if sf.alignment_id is not None and sf.layer_id == info.layer_id:
            _, changed = await geo.publish_changes(tenant_id, alignment_id)
            rows = await ownership.accounts_in_units(
                uow.session, tenant_id, sf.name, list(changed), with_custom=plan.plan.rules is not None
            )
            for start in range(0, len(rows), PAGE):
                page = rows[start : start + PAGE]
                current: dict[str, Any] = {r.id: _Current(r.cur_territory, r.cur_rep) for r in page}
                answers = {r.id: GeoAnswer(r.cur_unit, changed[r.cur_unit], alignment_id) for r in page}
                moves += await _decide(uow, tenant_id, plan, page, answers, current, alignment_id, located=False)
        else:
            after = None
            while accounts := await uow.accounts.page(tenant_id, after, PAGE, with_custom=plan.plan.rules is not None):
                answers, _, _ = await locate_accounts(geo, tenant_id, accounts, alignment_id=alignment_id)
                current = await uow.assignments.current(tenant_id, sf.name, [a.id for a in accounts])
                moves += await _decide(uow, tenant_id, plan, accounts, answers, current, alignment_id, located=True)
                after = accounts[-1].id
        rep_ext = plan.rep_external_ids
    totals = _flows(moves)
    return {
        "alignment_id": alignment_id,
        "sales_force": info.sales_force,
        "accounts_moved": len(moves),
        "potential_moved": round(sum(m.potential for m in moves), 2),
        "reps": [r.model_dump() for r in summarise_reps(totals, rep_ext)],
        "territories": [t.model_dump() for t in summarise_territories(totals)],
        "changes_truncated": len(moves) > changes_listed,
        "changes": [
            {
                "account_id": m.account_id,
                "external_id": m.external_id,
                "from_territory_code": m.from_territory,
                "to_territory_code": m.to_territory,
                "from_rep_external_id": rep_ext.get(m.from_rep) if m.from_rep else None,
                "to_rep_external_id": rep_ext.get(m.to_rep) if m.to_rep else None,
                "potential": m.potential,
            }
            for m in heapq.nsmallest(changes_listed, moves, key=lambda m: m.external_id)
        ],
    }


@dataclass(frozen=True)
class _Current:
    territory_code: str | None
    rep_id: str | None


async def _decide(
    uow: UnitOfWork,
    tenant_id: str,
    plan: Plan,
    accounts: Sequence[Any],
    answers: dict[str, GeoAnswer],
    current: dict[str, Any],
    alignment_id: str,
    *,
    located: bool,
) -> list[Move]:
    """The accounts whose owner the draft changes. ``located``: ``answers`` come from locating every account
    (one with a location that no unit holds is outside the layer); else they are the changed units' accounts."""
    ids = [a.id for a in accounts]
    overrides = {
        o.account_id: Override(o.territory_code, o.rep_id)
        for o in await uow.assignments.overrides(tenant_id, plan.record.name, ids)
    }
    out: list[Move] = []
    with_rules = plan.plan.rules is not None
    for a in accounts:
        answer = answers.get(a.id) if a.lat is not None else None
        if answer is None and a.lat is not None and located:
            answer = GeoAnswer(None, None, alignment_id)
        # Only rules read the account's fields; geography needs to know whether it has a location.
        facts = account_facts(a) if with_rules else {"lat": a.lat}
        d = plan.plan.decide(facts, answer, overrides.get(a.id))
        before = current.get(a.id)
        old_t, old_r = (before.territory_code, before.rep_id) if before else (None, None)
        if before is None or (old_t, old_r) != (d.territory_code, d.rep_id):
            out.append(Move(a.id, a.external_id, old_t, d.territory_code, old_r, d.rep_id, float(a.potential or 0)))
    return out


def _flows(moves: Sequence[Move]) -> list[Flow]:
    """The moves grouped by (from, to) territory and rep, as the realignment's totals are."""
    acc: dict[tuple[str | None, str | None, str | None, str | None], list[float]] = defaultdict(lambda: [0, 0.0])
    for m in moves:
        entry = acc[(m.from_territory, m.to_territory, m.from_rep, m.to_rep)]
        entry[0] += 1
        entry[1] += m.potential
    return [Flow(*key, int(n), p) for key, (n, p) in acc.items()]
