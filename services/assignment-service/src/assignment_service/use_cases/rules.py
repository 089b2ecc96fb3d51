"""Rule sets and overrides: saved only when valid; a saved rule set is applied by a job, an override at once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from territory_shared.audit import current_actor
from territory_shared.errors import InvalidInput, NotFound, PreconditionFailed

from assignment_service.db.records import OverrideRecord, RuleSetRecord
from assignment_service.db.unit_of_work import UnitOfWork
from assignment_service.domain.rule_set import Fallback, build_rule_set
from assignment_service.use_cases.assign import load_plan, reassign_ids, sales_force_record
from assignment_service.use_cases.ports import GeoClient
from assignment_service.use_cases.territory_codes import require_territory


async def save_rule_set(
    uow: UnitOfWork,
    geo: GeoClient,
    tenant_id: str,
    sales_force: str,
    rules: list[dict[str, Any]],
    fallback: Fallback,
    expected_version: int | None,
) -> RuleSetRecord:
    """Validate (syntax, fields, types, reachability, territories that exist) and store as the next version.

    The accounts are recomputed afterwards, by ``apply_rule_set`` (a job): a planner is answered at once.
    """
    # Asked before the transaction: a slow geo-service holds no lock and no connection.
    code_errors = await _unknown_territories(geo, tenant_id, sales_force, rules)
    async with uow:
        reps: dict[str, str] = {}
        for index, raw in enumerate(rules):
            ext = raw.pop("rep_external_id", None)
            if ext is not None:
                rep = await uow.reps.get(tenant_id, ext)
                if rep is None or rep.deleted_at is not None:
                    where = f"rules.{index}.rep_external_id"
                    raise InvalidInput(
                        "The rule set is not valid; nothing was saved.",
                        errors=[{"rule": raw.get("name"), "field": where, "reason": f"unknown rep {ext}"}],
                    )
                raw["rep_id"] = reps.setdefault(ext, rep.id)
        _, problems = build_rule_set(rules, fallback)
        if problems or code_errors:
            raise InvalidInput(
                "The rule set is not valid; nothing was saved.", errors=[p.as_dict() for p in problems] + code_errors
            )
        record = await uow.assignments.rule_set(tenant_id, sales_force)
        if record is not None and expected_version is not None and record.version != expected_version:
            raise PreconditionFailed(
                f"The rule set is at version {record.version}, not {expected_version}; reload and retry.",
                current_version=record.version,
            )
        if record is None:
            record = RuleSetRecord(tenant_id=tenant_id, sales_force=sales_force, version=1)
            uow.assignments.add(record)
        else:
            record.version += 1
        record.rules, record.fallback, record.updated_at = rules, fallback, datetime.now(UTC)
        record.updated_by = current_actor()
        await uow.flush()
        await sales_force_record(uow, tenant_id, sales_force)  # the sales force the job recomputes
        await uow.commit()
        return record


async def _unknown_territories(
    geo: GeoClient, tenant_id: str, sales_force: str, rules: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """An error per rule that names a territory no alignment of the sales force has."""
    named = [(i, r["territory_code"]) for i, r in enumerate(rules) if r.get("territory_code")]
    if not named:
        return []
    codes = await geo.territory_codes(tenant_id, sales_force)
    return [
        {
            "rule": rules[i].get("name"),
            "field": f"rules.{i}.territory_code",
            "reason": f"no alignment of sales force {sales_force!r} has a territory {code!r}; create it first "
            "in a draft of the sales force (POST /geo/v1/territories)",
        }
        for i, code in named
        if code not in codes
    ]


async def set_override(
    uow: UnitOfWork,
    geo: GeoClient,
    tenant_id: str,
    sales_force: str,
    account_external_id: str,
    territory_code: str | None,
    rep_external_id: str | None,
    note: str | None,
) -> OverrideRecord:
    if territory_code is None and rep_external_id is None:
        raise InvalidInput("give territory_code, rep_external_id or both", field="territory_code")
    if territory_code is not None:
        await require_territory(geo, tenant_id, sales_force, territory_code, "territory_code")
    async with uow:
        account = await uow.accounts.get(tenant_id, account_external_id)
        if account is None or account.deleted_at is not None:
            raise NotFound(f"Account {account_external_id} does not exist.")
        rep_id = None
        if rep_external_id is not None:
            rep = await uow.reps.get(tenant_id, rep_external_id)
            if rep is None or rep.deleted_at is not None:
                raise NotFound(f"Rep {rep_external_id} does not exist.", field="rep_external_id")
            rep_id = rep.id
        now, actor = datetime.now(UTC), current_actor()
        previous = await uow.assignments.override(tenant_id, sales_force, account.id)
        if previous is not None:
            previous.removed_at, previous.removed_by = now, actor
        record = OverrideRecord(
            id=str(uuid.uuid4()),
            tenant_id=tenant_id,
            sales_force=sales_force,
            account_id=account.id,
            territory_code=territory_code,
            rep_id=rep_id,
            note=note,
            created_at=now,
            created_by=actor,
        )
        uow.assignments.add(record)
        await uow.flush()
        sf = await sales_force_record(uow, tenant_id, sales_force)
        await reassign_ids(uow, tenant_id, await load_plan(uow, tenant_id, sf), [account.id], trigger="override")
        await uow.commit()
        return record


async def remove_override(uow: UnitOfWork, tenant_id: str, sales_force: str, account_external_id: str) -> None:
    async with uow:
        account = await uow.accounts.get(tenant_id, account_external_id)
        current = await uow.assignments.override(tenant_id, sales_force, account.id) if account else None
        if account is None or current is None:
            raise NotFound(f"Account {account_external_id} has no override in sales force {sales_force!r}.")
        current.removed_at, current.removed_by = datetime.now(UTC), current_actor()
        await uow.flush()
        sf = await sales_force_record(uow, tenant_id, sales_force)
        await reassign_ids(uow, tenant_id, await load_plan(uow, tenant_id, sf), [account.id], trigger="override")
        await uow.commit()
