"""Delete an account: it leaves every sales force (recorded in the history); the account row is kept, flagged."""

from __future__ import annotations

from datetime import UTC, datetime

from territory_shared.api.problems import NotFound
from territory_shared.events.assignment import AccountDeletedV1, AccountReassignedV1

from assignment_service.db.unit_of_work import UnitOfWork


async def delete_account(uow: UnitOfWork, tenant_id: str, external_id: str) -> None:
    async with uow:
        row = await uow.accounts.get(tenant_id, external_id)
        if row is None or row.deleted_at is not None:
            raise NotFound(f"Account {external_id} does not exist.")
        now = datetime.now(UTC)
        await uow.accounts.update_many(
            [{"id": row.id, "deleted_at": now, "version": row.version + 1, "updated_at": now}]
        )
        ended = await uow.assignments.end_for_account(tenant_id, row.id)
        await uow.assignments.add_history(
            [
                {
                    "tenant_id": tenant_id,
                    "sales_force": a.sales_force,
                    "account_id": row.id,
                    "external_id": external_id,
                    "from_territory_code": a.territory_code,
                    "to_territory_code": None,
                    "from_rep_id": a.rep_id,
                    "to_rep_id": None,
                    "cause": "unassigned",
                    "reason": "the account was deleted",
                    "trigger": "account",
                    "run_id": None,
                    "alignment_id": a.alignment_id,
                    "potential": row.potential,
                    "changed_at": now,
                }
                for a in ended
            ]
        )
        for a in ended:
            uow.emit(
                tenant_id,
                row.id,
                AccountReassignedV1(
                    account_id=row.id,
                    external_id=external_id,
                    sales_force=a.sales_force,
                    from_territory_code=a.territory_code,
                    to_territory_code=None,
                    from_rep_id=a.rep_id,
                    to_rep_id=None,
                    cause="unassigned",
                    trigger="account",
                ),
            )
        uow.emit(
            tenant_id, row.id, AccountDeletedV1(account_id=row.id, external_id=external_id, version=row.version + 1)
        )
        await uow.commit()
