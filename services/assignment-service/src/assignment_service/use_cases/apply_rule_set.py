"""Apply a saved rule set to every account of its sales force: the job that saving a rule set starts.

Accounts are recomputed page by page, each page in its own transaction with its history and events (the
outbox): an upsert, a rep change or the planner's next save waits for one page, not for the whole sales force
(SQLite, the embedded mode, has one writer). Each page takes the tenant's account lock and then reads the rule
set current at that moment, so a job never writes with a version older than the one committed: when a newer
version was saved meanwhile, the job stops, superseded, and the newer version's job (started once that version
was committed, waiting for the same lock) recomputes every account. Accounts created while a job runs are
assigned by their upsert, which reads the rule set already saved.
"""

from __future__ import annotations

from typing import Any

from territory_shared.jobs import Progress

from assignment_service.db.unit_of_work import UnitOfWork
from assignment_service.use_cases.assign import load_plan, reassign, sales_force_record

# Accounts per transaction: about a quarter of a second of writing on the demo's SQLite, so whatever waits for
# the writer waits little, while each page's statements still amortise their round trips.
PAGE = 2_000


async def apply_rule_set(
    uow: UnitOfWork, tenant_id: str, sales_force: str, version: int, progress: Progress
) -> dict[str, Any]:
    """Recompute every live account of the tenant in ``sales_force`` with rule set ``version`` (stored geography).

    Not cancellable: stopping halfway would leave the sales force half on the old rules and half on the new.
    """
    async with uow:
        total = await uow.accounts.count_live(tenant_id)
    result: dict[str, Any] = {"sales_force": sales_force, "rule_set_version": version, "superseded_by_version": None}
    done = moved = 0
    after: str | None = None
    await progress("assigning", 0, f"0 of {total:,} accounts")
    while True:
        async with uow:
            await uow.lock_accounts(tenant_id)
            current = await uow.assignments.rule_set(tenant_id, sales_force)
            if current is None or current.version != version:
                newer = current.version if current is not None else None
                return result | {"superseded_by_version": newer, "accounts": done, "accounts_moved": moved}
            plan = await load_plan(uow, tenant_id, await sales_force_record(uow, tenant_id, sales_force))
            page = await uow.accounts.page(tenant_id, after, PAGE)
            if not page:
                break
            moved += len(await reassign(uow, tenant_id, plan, page, trigger="rule"))
            await uow.commit()
        done, after = done + len(page), page[-1].id
        await progress("assigning", 99 * done / max(total, done, 1), f"{done:,} of {total:,} accounts")
    async with uow:
        counts = await uow.assignments.count_by_territory(tenant_id, sales_force)
    return result | {
        "accounts": done,
        "accounts_moved": moved,
        "assigned": sum(n for code, n in counts.items() if code is not None),
        "unassigned": counts.get(None, 0),
    }
