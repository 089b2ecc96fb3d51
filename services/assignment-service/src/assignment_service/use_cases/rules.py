"""Rule sets and overrides: saved only when valid; saving recomputes the sales force, an override one account."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from territory_shared.api.problems import BadRequest, NotFound, PreconditionFailed

from assignment_service.db.records import OverrideRecord, RuleSetRecord
from assignment_service.db.unit_of_work import UnitOfWork
from assignment_service.domain.rule_set import Fallback, build_rule_set
from assignment_service.use_cases.assign import load_plan, reassign_ids, sales_force_record


async def save_rule_set(
    uow: UnitOfWork,
    tenant_id: str,
    sales_force: str,
    rules: list[dict[str, Any]],
    fallback: Fallback,
    expected_version: int | None,
) -> tuple[RuleSetRecord, int]:
    """Validate (syntax, fields, types, reachability), store, recompute the sales force's accounts."""
    async with uow:
        reps: dict[str, str] = {}
        for raw in rules:
            ext = raw.pop("rep_external_id", None)
            if ext is not None:
                rep = await uow.reps.get(tenant_id, ext)
                if rep is None or rep.deleted_at is not None:
                    raise BadRequest(
                        "The rule set is not valid; nothing was saved.",
                        errors=[{"rule": raw.get("name"), "field": "rep_external_id", "reason": f"unknown rep {ext}"}],
                    )
                raw["rep_id"] = reps.setdefault(ext, rep.id)
        _, problems = build_rule_set(rules, fallback)
        if problems:
            raise BadRequest("The rule set is not valid; nothing was saved.", errors=[p.as_dict() for p in problems])
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
        await uow.flush()
        sf = await sales_force_record(uow, tenant_id, sales_force)
        plan = await load_plan(uow, tenant_id, sf)
        moved = await _all_accounts(uow, tenant_id, plan)
        await uow.commit()
        return record, moved


async def _all_accounts(uow: UnitOfWork, tenant_id: str, plan: Any) -> int:
    """Rules apply to every account: recompute them all, by pages, with their stored geography."""
    moved, after = 0, None
    while True:
        page = await uow.accounts.page(tenant_id, after, 5000)
        if not page:
            return moved
        moved += await reassign_ids(uow, tenant_id, plan, [a.id for a in page], trigger="rule")
        after = page[-1].id


async def set_override(
    uow: UnitOfWork,
    tenant_id: str,
    sales_force: str,
    account_external_id: str,
    territory_code: str | None,
    rep_external_id: str | None,
    note: str | None,
) -> OverrideRecord:
    if territory_code is None and rep_external_id is None:
        raise BadRequest("give territory_code, rep_external_id or both", field="territory_code")
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
        now = datetime.now(UTC)
        previous = await uow.assignments.override(tenant_id, sales_force, account.id)
        if previous is not None:
            previous.removed_at = now
        record = OverrideRecord(
            id=str(uuid.uuid4()),
            tenant_id=tenant_id,
            sales_force=sales_force,
            account_id=account.id,
            territory_code=territory_code,
            rep_id=rep_id,
            note=note,
            created_at=now,
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
        current.removed_at = datetime.now(UTC)
        await uow.flush()
        sf = await sales_force_record(uow, tenant_id, sales_force)
        await reassign_ids(uow, tenant_id, await load_plan(uow, tenant_id, sf), [account.id], trigger="override")
        await uow.commit()
