"""Delete an account: it leaves every sales force (recorded in the history); the account row is kept, flagged."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from territory_shared.errors import NotFound
from territory_shared.events.assignment import AccountDeletedV1, AccountReassignedV1

from assignment_service.db.unit_of_work import UnitOfWork


async def delete_account(uow: UnitOfWork, tenant_id: str, external_id: str) -> None:
    async with uow:
        row = await uow.accounts.get(tenant_id, external_id)
        if row is None or row.deleted_at is not None:
            raise NotFound(f"Account {external_id} does not exist.")
        await retire_accounts(uow, tenant_id, [row], datetime.now(UTC))
        await uow.commit()


async def retire_accounts(uow: UnitOfWork, tenant_id: str, rows: Sequence[Any], now: datetime) -> int:
    """Flag live accounts deleted, end their assignments in every sales force, in the caller's transaction.

    ``rows``: the accounts as stored (id, external_id, version, potential). Each ended assignment is written to
    the history and announced (``assignment.account.reassigned.v1``, to nowhere), then each account's
    ``assignment.account.deleted.v1``: the single delete and the bulk ones write exactly the same. Answers how
    many assignments ended.
    """
    if not rows:
        return 0
    await uow.accounts.update_many(
        [{"id": r.id, "deleted_at": now, "version": r.version + 1, "updated_at": now} for r in rows]
    )
    by_id = {r.id: r for r in rows}
    ended = await uow.assignments.end_for_accounts(tenant_id, list(by_id))
    await uow.assignments.add_history(
        [
            {
                "tenant_id": tenant_id,
                "sales_force": a.sales_force,
                "account_id": a.account_id,
                "external_id": by_id[a.account_id].external_id,
                "from_territory_code": a.territory_code,
                "to_territory_code": None,
                "from_rep_id": a.rep_id,
                "to_rep_id": None,
                "cause": "unassigned",
                "reason": "the account was deleted",
                "trigger": "account",
                "run_id": None,
                "alignment_id": a.alignment_id,
                "potential": by_id[a.account_id].potential,
                "changed_at": now,
            }
            for a in ended
        ]
    )
    # Built through the contracts' models (not raw dicts): fields added to a contract keep their defaults here.
    uow.emit_many(
        tenant_id,
        AccountReassignedV1,
        [a.account_id for a in ended],
        [
            AccountReassignedV1(
                account_id=a.account_id,
                external_id=by_id[a.account_id].external_id,
                sales_force=a.sales_force,
                from_territory_code=a.territory_code,
                to_territory_code=None,
                from_rep_id=a.rep_id,
                to_rep_id=None,
                cause="unassigned",
                trigger="account",
            ).model_dump(mode="json")
            for a in ended
        ],
    )
    uow.emit_many(
        tenant_id,
        AccountDeletedV1,
        [r.id for r in rows],
        [
            AccountDeletedV1(account_id=r.id, external_id=r.external_id, version=r.version + 1).model_dump(mode="json")
            for r in rows
        ],
    )
    await uow.stage_events()
    return len(ended)
