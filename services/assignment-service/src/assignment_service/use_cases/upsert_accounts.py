"""Bulk upsert of accounts by the CRM's external id, streamed, with per-line errors and all-or-nothing.

Rows are validated as they arrive and applied in batches inside one transaction: valid rows are written (or
none, when the caller asks for all-or-nothing and a row failed), changed accounts are announced and
re-assigned in every sales force, and the ``Idempotency-Key`` is recorded in that same transaction, so a
retried request is answered from the record and changes nothing twice. geo-service is asked where the first
batch's accounts are before the tenant's lock is taken; after taking it, the answers are used only if the
sales forces are still on the alignments they were located against.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from territory_shared.events.assignment import AccountUpsertedV1

from assignment_service.db.records import SalesForceRecord
from assignment_service.db.unit_of_work import UnitOfWork
from assignment_service.domain.accounts import FACTS, Account, AccountInput, RowError, ZipResolver, validate_account
from assignment_service.domain.assignment import GeoAnswer
from assignment_service.use_cases.assign import Plan, load_plan, locate_accounts, reassign
from assignment_service.use_cases.idempotency import Idempotency
from assignment_service.use_cases.ports import GeoClient

# Rows validated, written (COPY on PostgreSQL) and announced together: large enough that each statement's round
# trip is amortised, small enough that memory stays flat however long the stream.
BATCH = 20_000
MAX_ERRORS_LISTED = 1_000
# Tries at locating the first batch before the lock when a realignment is applied in between; the last one
# locates under the lock, so the upsert always goes through.
LOCATE_ATTEMPTS = 3


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
    batches = _valid_batches(rows, resolve_zip, report, all_or_nothing)
    # The first batch (a whole request, most often) is read and located before the tenant's lock is taken: a
    # slow client or a slow geo-service holds up no other writer of the tenant.
    first: list[AccountInput] = await anext(batches, [])
    for attempt in range(1, LOCATE_ATTEMPTS + 1):
        async with uow:
            recorded = _recorded(await uow.assignments.sales_forces(tenant_id))
            existing = await uow.accounts.by_external_ids(tenant_id, [a.external_id for a in first])
        located = await _locate_batch(geo, tenant_id, recorded, first, existing)
        async with uow:
            await uow.lock_accounts(tenant_id)
            plans = [await load_plan(uow, tenant_id, sf) for sf in await uow.assignments.sales_forces(tenant_id)]
            if not located.current(plans) and attempt < LOCATE_ATTEMPTS:
                continue  # a realignment was applied meanwhile: nothing written yet, locate again unlocked
            batch = first
            while batch:
                await _apply(uow, geo, tenant_id, plans, batch, report, located)
                batch = await anext(batches, [])
                if batch:
                    # The lock is held from the first write to the commit (one transaction, all or nothing):
                    # the later batches are located under it, against the alignments it keeps current.
                    existing = await uow.accounts.by_external_ids(tenant_id, [a.external_id for a in batch])
                    located = await _locate_batch(geo, tenant_id, _recorded(p.record for p in plans), batch, existing)
            if all_or_nothing and report.errors:
                report.applied = False
                report.created = report.updated = report.unchanged = report.reassigned = 0
                return report  # leaving the unit of work rolls back what earlier batches wrote
            if idempotency is not None:
                await idempotency.record(uow, tenant_id, report.as_dict(), datetime.now(UTC))
            await uow.commit()
            return report
    raise AssertionError("the last attempt always applies")  # pragma: no cover


async def _valid_batches(
    rows: AsyncIterator[tuple[int, object]], resolve_zip: ZipResolver, report: UpsertReport, all_or_nothing: bool
) -> AsyncIterator[list[AccountInput]]:
    """The valid rows, ``BATCH`` at a time; the rejected ones counted and listed in ``report``. Once a row failed
    under all-or-nothing, nothing more is given: the rest is only validated."""
    first_line: dict[str, int] = {}
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
            yield batch
            batch = []
    if batch and not (all_or_nothing and report.errors):
        yield batch


Alignment = tuple[str | None, int | None]


def _recorded(sales_forces: Iterable[SalesForceRecord]) -> dict[str, Alignment]:
    return {sf.name: (sf.alignment_id, sf.alignment_version) for sf in sales_forces}


@dataclass
class _Located:
    """A batch's geography in each sales force, asked of geo-service: answers by external id, the alignment that
    answered, and the alignment the sales force was on when asked."""

    recorded: dict[str, Alignment]
    answers: dict[str, tuple[dict[str, GeoAnswer], str | None, int | None]]
    asked: set[str]  # the external ids located (with a location or not)

    def current(self, plans: Sequence[Plan]) -> bool:
        """Whether the answers still hold for these plans (read under the lock): each sales force is on the
        alignment it was on when located, or on the one that answered. Else a realignment was applied between
        the two, and the answers may be of the alignment it replaced."""
        return all(self.holds(p) for p in plans)

    def holds(self, plan: Plan) -> bool:
        name, now = plan.record.name, (plan.record.alignment_id, plan.record.alignment_version)
        if name not in self.answers:
            return not self.asked  # nothing was to be located
        _, alignment_id, version = self.answers[name]
        return self.recorded.get(name) == now or (alignment_id, version) == now


async def _locate_batch(
    geo: GeoClient, tenant_id: str, recorded: dict[str, Alignment], batch: list[AccountInput], existing: dict[str, Any]
) -> _Located:
    """Locate, in each sales force, the accounts of the batch that will be written (as ``existing`` says)."""
    asked = [a for a in batch if _changes(a, existing.get(a.external_id))]
    located = _Located(recorded, {}, {a.external_id for a in asked})
    if not asked:
        return located
    points = [(a.external_id, a.lon, a.lat) for a in asked if a.lat is not None and a.lon is not None]
    for name in recorded:
        answer = await geo.locate(tenant_id, points, sales_force=name)
        located.answers[name] = (
            (answer.answers, answer.alignment_id, answer.alignment_version) if answer else ({}, None, None)
        )
    return located


def _changes(account: AccountInput, before: Any) -> bool:
    facts = account.facts()
    return before is None or before.deleted_at is not None or any(getattr(before, k) != facts[k] for k in FACTS)


async def _answers(
    geo: GeoClient, tenant_id: str, plan: Plan, accounts: list[Account], located: _Located
) -> tuple[dict[str, GeoAnswer], str | None, int | None]:
    """The accounts' geography in the plan's sales force, by account id: as located before, when that still
    holds; the accounts changed since (or all, when it does not hold) are located now."""
    name = plan.record.name
    if name in located.answers and located.holds(plan):
        by_external, alignment_id, version = located.answers[name]
        late = [a for a in accounts if a.external_id not in located.asked]
        if late:  # changed between the look before the lock and the write: asked of the same alignment
            more, _, _ = await locate_accounts(
                geo, tenant_id, late, sales_force=name if alignment_id is None else None, alignment_id=alignment_id
            )
            by_id = {a.id: by_external[a.external_id] for a in accounts if a.external_id in by_external}
            return by_id | more, alignment_id, version
        return (
            {a.id: by_external[a.external_id] for a in accounts if a.external_id in by_external},
            alignment_id,
            version,
        )
    return await locate_accounts(geo, tenant_id, accounts, sales_force=name)


async def _apply(
    uow: UnitOfWork,
    geo: GeoClient,
    tenant_id: str,
    plans: list[Plan],
    batch: list[AccountInput],
    report: UpsertReport,
    located: _Located,
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
        answers, alignment_id, version = await _answers(geo, tenant_id, plan, accounts, located)
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
