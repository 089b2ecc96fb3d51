"""The assignment engine: decide where accounts go in a sales force and record what changed.

Every path (an account upserted, a rep or roster changed, a rule set saved, an override set, an alignment
published, a full recompute) ends here with the accounts it affects, so only those are recomputed. A change
of territory or rep is written to the history, and announced (``assignment.account.reassigned.v1``) in the
caller's transaction, a first assignment included: the event is what every projection counts owners by. A
change of the account's unit, or of whether its territory follows that unit, is announced too (no history: the
owner is the same), so a projection can say what publishing another alignment would do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from territory_shared.audit import current_actor
from territory_shared.events.assignment import AccountReassignedV1

from assignment_service.db.records import SalesForceRecord
from assignment_service.db.unit_of_work import UnitOfWork
from assignment_service.domain.accounts import Account
from assignment_service.domain.assignment import Decision, GeoAnswer, Override, SalesForcePlan, account_facts
from assignment_service.domain.rule_set import build_rule_set
from assignment_service.use_cases.ports import GeoClient

UNSET = object()


@dataclass(frozen=True)
class Move:
    account_id: str
    external_id: str
    from_territory: str | None
    to_territory: str | None
    from_rep: str | None
    to_rep: str | None
    potential: float


@dataclass
class Plan:
    """A sales force's plan plus what the writer needs (rep external ids for events)."""

    record: SalesForceRecord
    plan: SalesForcePlan
    rep_external_ids: dict[str, str]


async def load_plan(uow: UnitOfWork, tenant_id: str, sales_force: SalesForceRecord, today: date | None = None) -> Plan:
    rule_record = await uow.assignments.rule_set(tenant_id, sales_force.name)
    rules = None
    if rule_record is not None and (rule_record.rules or rule_record.fallback != "geography"):
        rules, _ = build_rule_set(rule_record.rules, rule_record.fallback, rule_record.version)
    primary = await uow.reps.primary_reps(tenant_id, sales_force.name, today or datetime.now(UTC).date())
    return Plan(
        sales_force,
        SalesForcePlan(sales_force.name, rules, primary, has_alignment=sales_force.alignment_id is not None),
        await uow.reps.external_ids(tenant_id),
    )


async def locate_accounts(
    geo: GeoClient,
    tenant_id: str,
    accounts: Sequence[Account],
    *,
    sales_force: str | None = None,
    alignment_id: str | None = None,
) -> tuple[dict[str, GeoAnswer], str | None, int | None]:
    """Geography of the accounts that have a location; also which alignment answered (None: no active one)."""
    points = [(a.id, a.lon, a.lat) for a in accounts if a.lat is not None and a.lon is not None]
    located = await geo.locate(tenant_id, points, sales_force=sales_force, alignment_id=alignment_id)
    if located is None:
        return {}, None, None
    return located.answers, located.alignment_id, located.alignment_version


async def reassign(
    uow: UnitOfWork,
    tenant_id: str,
    plan: Plan,
    accounts: Sequence[Account],
    *,
    trigger: str,
    geo: dict[str, GeoAnswer] | None = None,
    alignment_id: Any = UNSET,
    run_id: str | None = None,
    current: dict[str, Any] | None = None,
) -> list[Move]:
    """Recompute the given accounts in one sales force; ``geo`` None keeps each account's stored geography.

    ``current``: the accounts' assignments, when the caller has just read them.
    """
    if not accounts:
        return []
    sf = plan.record.name
    ids = [a.id for a in accounts]
    if current is None:
        current = await uow.assignments.current(tenant_id, sf, ids)
    overrides = {
        o.account_id: Override(o.territory_code, o.rep_id) for o in await uow.assignments.overrides(tenant_id, sf, ids)
    }
    now, actor = datetime.now(UTC), current_actor()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    moves: list[Move] = []
    subjects: list[str] = []
    events: list[dict[str, Any]] = []
    active_alignment = plan.record.alignment_id if alignment_id is UNSET else alignment_id
    for account in accounts:
        before = current.get(account.id)
        if geo is not None:
            answer = geo.get(account.id) if account.lat is not None else None
            if answer is None and account.lat is not None and active_alignment is not None:
                answer = GeoAnswer(None, None, active_alignment)
        elif before is not None and before.alignment_id is not None:
            # Located before: its unit's territory is current (a realignment rewrites the units that changed).
            answer = GeoAnswer(before.geo_unit_id, before.geo_territory_code, active_alignment)
        else:
            answer = None
        # Only rules read the account's fields; geography needs to know whether it has a location.
        facts = account_facts(account) if plan.plan.rules is not None else {"lat": account.lat}
        decision: Decision = plan.plan.decide(facts, answer, overrides.get(account.id))
        row: dict[str, Any] = {
            "tenant_id": tenant_id,
            "sales_force": sf,
            "account_id": account.id,
            "external_id": account.external_id,
            "territory_code": decision.territory_code,
            "rep_id": decision.rep_id,
            "cause": decision.cause,
            "rule": decision.rule,
            "reason": decision.reason,
            "geo_unit_id": answer.unit_id if answer else None,
            "geo_territory_code": answer.territory_code if answer else None,
            "alignment_id": answer.alignment_id if answer else None,
            "potential": account.potential,
            "by_geography": decision.by_geography,
            "updated_at": now,
        }
        if before is None:
            inserts.append(row)
        elif any(getattr(before, k) != row[k] for k in row if k not in ("updated_at",)):
            updates.append(row)
        else:
            continue
        if before is None:
            moved = told = True
        else:
            moved = (before.territory_code, before.rep_id) != (decision.territory_code, decision.rep_id)
            # The same owner on another unit, or now pinned (or no longer): told, for what other alignments would do.
            told = moved or (before.geo_unit_id, before.by_geography) != (row["geo_unit_id"], decision.by_geography)
        if not told:
            continue
        move = Move(
            account.id,
            account.external_id,
            before.territory_code if before else None,
            decision.territory_code,
            before.rep_id if before else None,
            decision.rep_id,
            float(account.potential or 0.0),
        )
        if moved:
            history.append(
                {
                    "tenant_id": tenant_id,
                    "sales_force": sf,
                    "account_id": account.id,
                    "external_id": account.external_id,
                    "from_territory_code": move.from_territory,
                    "to_territory_code": move.to_territory,
                    "from_rep_id": move.from_rep,
                    "to_rep_id": move.to_rep,
                    "cause": decision.cause,
                    "reason": decision.reason,
                    "trigger": trigger,
                    "run_id": run_id,
                    "alignment_id": row["alignment_id"],
                    "potential": account.potential,
                    "changed_at": now,
                    "changed_by": actor,
                }
            )
            if before is not None:
                moves.append(move)  # a first assignment moved nothing: it is told, not counted as a move
        subjects.append(account.id)
        events.append(
            reassigned_data(
                move,
                sf,
                decision.cause,
                trigger,
                run_id=run_id,
                alignment_id=row["alignment_id"],
                plan=plan,
                unit_id=row["geo_unit_id"],
                by_geography=decision.by_geography,
            )
        )
    uow.emit_many(tenant_id, AccountReassignedV1, subjects, events)
    await uow.assignments.insert_many(inserts)
    await uow.assignments.update_many(updates)
    await uow.assignments.add_history(history)
    await uow.stage_events()
    return moves


def reassigned_data(
    move: Move,
    sales_force: str,
    cause: str,
    trigger: str,
    *,
    run_id: str | None,
    alignment_id: str | None,
    plan: Plan,
    unit_id: str | None,
    by_geography: bool,
) -> dict[str, Any]:
    """The JSON data of an ``AccountReassignedV1`` (its fields, in order) for ``UnitOfWork.emit_many``."""
    rep_ext = plan.rep_external_ids
    return {
        "account_id": move.account_id,
        "external_id": move.external_id,
        "sales_force": sales_force,
        "from_territory_code": move.from_territory,
        "to_territory_code": move.to_territory,
        "from_rep_id": move.from_rep,
        "to_rep_id": move.to_rep,
        "from_rep_external_id": rep_ext.get(move.from_rep) if move.from_rep else None,
        "to_rep_external_id": rep_ext.get(move.to_rep) if move.to_rep else None,
        "cause": cause,
        "trigger": trigger,
        "run_id": run_id,
        "alignment_id": alignment_id,
        "unit_id": unit_id,
        "by_geography": by_geography,
    }


async def reassign_ids(
    uow: UnitOfWork, tenant_id: str, plan: Plan, account_ids: Sequence[str], *, trigger: str, batch: int = 5000
) -> int:
    """Recompute accounts by id with their stored geography (rules, overrides, rosters changed)."""
    moved = 0
    for start in range(0, len(account_ids), batch):
        accounts = await uow.accounts.by_ids(tenant_id, account_ids[start : start + batch])
        moved += len(await reassign(uow, tenant_id, plan, accounts, trigger=trigger))
    return moved


async def sales_force_record(uow: UnitOfWork, tenant_id: str, name: str) -> SalesForceRecord:
    record = await uow.assignments.sales_force(tenant_id, name)
    if record is None:
        record = SalesForceRecord(tenant_id=tenant_id, name=name, updated_at=datetime.now(UTC))
        uow.assignments.add(record)
        await uow.flush()
    return record
