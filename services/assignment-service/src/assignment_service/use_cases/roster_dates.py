"""Roster entries take effect on their dates: on the first day of an entry, and on its end, the territory's
accounts go to the rep in effect that day.

An entry written with a date still to come changes nothing when it is written; each pass of the roster-dates
worker (``workers/roster_dates.py``) finds the territories with a start or an end due (today, UTC, or earlier:
a worker that was down catches up) and not yet applied, recomputes their accounts with the roster of today
(trigger ``roster``: history and ``assignment.account.reassigned.v1`` as any roster change), and marks those
dates applied in the same transaction, so each is applied exactly once. ``assignment.roster.changed.v1`` is not
told again: it carries every dated entry already, and a date coming changes none of them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from assignment_service.db import roster_dates
from assignment_service.db.unit_of_work import UnitOfWork
from assignment_service.use_cases.reps import reassign_territories

# Territories read per pass; the next pass takes the rest.
BATCH = 500


async def apply_due_roster_dates(uow: UnitOfWork, today: date | None = None) -> int:
    """Apply every roster date due by ``today`` (UTC's today by default); answer how many territories were
    recomputed. Each territory is applied in a transaction of its own."""
    on = today or datetime.now(UTC).date()
    async with uow:
        due = await roster_dates.due_territories(uow.session, on, BATCH)
    applied = 0
    for tenant_id, sales_force, territory_code in due:
        applied += await _apply(uow, tenant_id, sales_force, territory_code, on)
    return applied


async def _apply(uow: UnitOfWork, tenant_id: str, sales_force: str, territory_code: str, today: date) -> int:
    async with uow:
        # The lock realignments and bulk upserts take: the accounts are recomputed from assignments no one
        # else is rewriting meanwhile.
        await uow.lock_accounts(tenant_id)
        roles = await roster_dates.claim(uow.session, tenant_id, sales_force, territory_code, today, datetime.now(UTC))
        if not roles:
            return 0  # another worker applied them meanwhile
        if "primary" in roles:  # a secondary rep owns no accounts: nothing to recompute
            await reassign_territories(uow, tenant_id, [(sales_force, territory_code)], "roster", today)
        await uow.commit()
        return 1
