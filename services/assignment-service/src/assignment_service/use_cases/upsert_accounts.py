"""Bulk upsert of accounts by the CRM's external id, streamed, with per-line errors and all-or-nothing.

Rows are validated as they arrive and applied in batches inside one transaction: valid rows are written (or
none, when the caller asks for all-or-nothing and a row failed), changed accounts are announced and
re-assigned in every sales force, and the ``Idempotency-Key`` is recorded in that same transaction, so a
retried request is answered from the record and changes nothing twice.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from territory_shared.events.assignment import AccountUpsertedV1

from assignment_service.db.unit_of_work import UnitOfWork
from assignment_service.domain.accounts import FACTS, Account, AccountInput, RowError, ZipResolver, validate_account
from assignment_service.use_cases.assign import Plan, load_plan, locate_accounts, reassign
from assignment_service.use_cases.idempotency import Idempotency
from assignment_service.use_cases.ports import GeoClient

# Rows validated, written (COPY on PostgreSQL) and announced together: large enough that each statement's round
# trip is amortised, small enough that memory stays flat however long the stream.
BATCH = 20_000
MAX_ERRORS_LISTED = 1_000


@dataclass
class UpsertReport:
    received: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    applied: bool = True
    errors: list[RowError] = field(default_factory=list)
    reassigned: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "applied": self.applied,
            "reassigned": self.reassigned,
            "errors": [e.as_dict() for e in self.errors[:MAX_ERRORS_LISTED]],
            "errors_truncated": len(self.errors) > MAX_ERRORS_LISTED,
        }


async def upsert_accounts(
    uow: UnitOfWork,
    geo: GeoClient,
    resolve_zip: ZipResolver,
    tenant_id: str,
    rows: AsyncIterator[tuple[int, object]],
    *,
    all_or_nothing: bool,
    idempotency: Idempotency | None,
) -> UpsertReport:
    report = UpsertReport()
    first_line: dict[str, int] = {}
    async with uow:
        await uow.lock_accounts(tenant_id)
        plans = [await load_plan(uow, tenant_id, sf) for sf in await uow.assignments.sales_forces(tenant_id)]
        batch: list[AccountInput] = []
        async for line, raw in rows:
            report.received += 1
            account, errors = validate_account(line, raw, resolve_zip)
            if account is not None and account.external_id in first_line:
                errors = [
                    RowError(
                        line,
                        account.external_id,
                        "external_id",
                        f"duplicate external_id in this request (first at line {first_line[account.external_id]})",
                    )
                ]
                account = None
            if account is None:
                report.rejected += 1
                report.errors += errors
                continue
            first_line[account.external_id] = line
            if all_or_nothing and report.errors:
                continue  # nothing will be applied: only validate the rest
            batch.append(account)
            if len(batch) >= BATCH:
                await _apply(uow, geo, tenant_id, plans, batch, report)
                batch = []
        if all_or_nothing and report.errors:
            report.applied = False
            report.created = report.updated = report.unchanged = report.reassigned = 0
            return report  # leaving the unit of work rolls back what earlier batches wrote
        await _apply(uow, geo, tenant_id, plans, batch, report)
        if idempotency is not None:
            await idempotency.record(uow, tenant_id, report.as_dict(), datetime.now(UTC))
        await uow.commit()
    return report


async def _apply(
    uow: UnitOfWork, geo: GeoClient, tenant_id: str, plans: list[Plan], batch: list[AccountInput], report: UpsertReport
) -> None:
    if not batch:
        return
    existing = await uow.accounts.by_external_ids(tenant_id, [a.external_id for a in batch])
    now = datetime.now(UTC)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    written: list[Account] = []  # the accounts as written: what reading them back would give
    for account in batch:
        facts = account.facts()
        before = existing.get(account.external_id)
        if before is None:
            stored = Account(**vars(account), id=str(uuid.uuid4()), version=1)
            inserts.append({"tenant_id": tenant_id, **vars(stored), "deleted_at": None, "updated_at": now})
        elif before.deleted_at is None and all(getattr(before, k) == facts[k] for k in FACTS):
            report.unchanged += 1
            continue
        else:
            stored = Account(**vars(account), id=before.id, version=before.version + 1)
            updates.append({"id": stored.id, **facts, "version": stored.version, "deleted_at": None, "updated_at": now})
        written.append(stored)
    subjects = [a.id for a in written]
    datas = [upserted_data(a) for a in written]
    uow.emit_many(tenant_id, AccountUpsertedV1, subjects, datas)
    await uow.accounts.insert_many(inserts)
    await uow.accounts.update_many(updates)
    await uow.stage_events()
    report.created += len(inserts)
    report.updated += len(updates)
    if not written or not plans:
        return
    accounts = written
    for plan in plans:
        answers, alignment_id, version = await locate_accounts(geo, tenant_id, accounts, sales_force=plan.record.name)
        if alignment_id != plan.record.alignment_id:
            # geo-service published meanwhile: assign by what is active now; the realignment run that is
            # coming recomputes the rest of the sales force.
            plan.record.alignment_id, plan.record.alignment_version = alignment_id, version
            plan.plan = type(plan.plan)(
                plan.plan.name, plan.plan.rules, plan.plan.primary_rep, alignment_id is not None
            )
        moves = await reassign(uow, tenant_id, plan, accounts, trigger="account", geo=answers)
        report.reassigned += len(moves)


def upserted_data(account: Account) -> dict[str, Any]:
    """The JSON data of an ``AccountUpsertedV1`` (its fields, in order) for ``UnitOfWork.emit_many``: the
    account's own fields of the same names."""
    return {name: account.id if name == "account_id" else getattr(account, name) for name in _UPSERTED_FIELDS}


_UPSERTED_FIELDS = tuple(AccountUpsertedV1.model_fields)
