"""The only place assignment-service commits: changes and their outbox rows (and webhook deliveries) together."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from territory_shared.db.unit_of_work import UnitOfWork as BaseUnitOfWork

from assignment_service.db.accounts import AccountRepository
from assignment_service.db.assignments import AssignmentRepository
from assignment_service.db.bulk import insert_rows
from assignment_service.db.records import OUTBOX
from assignment_service.db.reps import RepRepository
from assignment_service.db.runs import RunRepository


class UnitOfWork(BaseUnitOfWork):
    """``async with uow:`` opens a transaction; ``await uow.commit()`` writes changes and events together."""

    source = "/assignment-service"
    outbox = OUTBOX

    def open_repositories(self, session: AsyncSession) -> None:
        self.accounts = AccountRepository(session)
        self.reps = RepRepository(session)
        self.assignments = AssignmentRepository(session)
        self.runs = RunRepository(session)

    async def write_outbox_rows(self, rows: Sequence[dict[str, object]]) -> None:
        # A realignment writes its events by the hundred thousand: COPY on PostgreSQL.
        await insert_rows(self.session, OUTBOX, rows)

    async def lock_accounts(self, tenant_id: str) -> None:
        """Hold the tenant's accounts until this transaction ends.

        Bulk upserts and realignment runs write many accounts and assignments of a tenant in one transaction;
        taking this first serialises them, so concurrent ones neither deadlock nor insert the same new account
        twice nor bump an account's version from the same old value twice: each sees the one before it
        committed. PostgreSQL: a transaction-level advisory lock per tenant. SQLite: its one write lock, taken
        now by a write that changes nothing (a transaction that read first could not upgrade to writing).
        """
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": f"accounts:{tenant_id}"}
            )
        else:
            await self.session.execute(text("DELETE FROM outbox WHERE 1 = 0"))
