"""Bulk delete of accounts, by external ids or by a filter, in one transaction with its events (the outbox).

Each account ends exactly as ``DELETE /v1/accounts/{id}`` ends it (``retire_accounts``), batch by batch in
the same transaction: nothing is deleted unless everything is. Ids that name no live account are reported, not
refused (as the bulk upsert reports its bad rows and applies the rest). The ``Idempotency-Key`` is recorded in
that same transaction, so a retried request is answered from the record and deletes nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from assignment_service.db.rows import AnyRow
from assignment_service.db.unit_of_work import UnitOfWork
from assignment_service.domain.accounts import AccountFilter
from assignment_service.use_cases.delete_account import retire_accounts
from assignment_service.use_cases.idempotency import Idempotency

# Accounts retired per step: their assignments are read and deleted by chunks of this size and their events
# written to the outbox, so memory stays flat however many accounts one request deletes.
BATCH = 5_000
MAX_NOT_FOUND_LISTED = 1_000


@dataclass
class DeleteReport:
    received: int = 0
    deleted: int = 0
    not_found: list[str] = field(default_factory=list)
    assignments_ended: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "deleted": self.deleted,
            "not_found": len(self.not_found),
            "not_found_ids": self.not_found[:MAX_NOT_FOUND_LISTED],
            "not_found_truncated": len(self.not_found) > MAX_NOT_FOUND_LISTED,
            "assignments_ended": self.assignments_ended,
        }


async def delete_accounts(
    uow: UnitOfWork,
    tenant_id: str,
    *,
    external_ids: list[str] | None = None,
    where: AccountFilter | None = None,
    idempotency: Idempotency | None = None,
) -> DeleteReport:
    """Delete the live accounts named by ``external_ids`` (each once; unknown or already deleted ones are
    reported in ``not_found``) or every live account matching ``where``; one of the two."""
    if (external_ids is None) == (where is None):
        raise ValueError("give external_ids or where")
    report = DeleteReport()
    async with uow:
        # Serialises with bulk upserts and realignment runs: none of them writes an account being retired.
        await uow.lock_accounts(tenant_id)
        rows: Sequence[AnyRow]
        if external_ids is not None:
            wanted = list(dict.fromkeys(external_ids))
            found = await uow.accounts.by_external_ids(tenant_id, wanted)
            rows = [found[e] for e in wanted if e in found and found[e].deleted_at is None]
            report.not_found = [e for e in wanted if e not in found or found[e].deleted_at is not None]
            report.received = len(wanted)
        else:
            assert where is not None
            rows = await uow.accounts.matching(tenant_id, where)
            report.received = len(rows)
        now = datetime.now(UTC)
        for start in range(0, len(rows), BATCH):
            report.assignments_ended += await retire_accounts(uow, tenant_id, rows[start : start + BATCH], now)
        report.deleted = len(rows)
        if idempotency is not None:
            await idempotency.record(uow, tenant_id, report.as_dict(), now)
        await uow.commit()
    return report
