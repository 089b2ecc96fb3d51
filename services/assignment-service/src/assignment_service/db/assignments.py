"""Current assignments, their history, overrides, rule sets and the sales forces assigned for."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from territory_shared.audit import current_actor

from assignment_service.db.bulk import copy_update_rows, insert_rows, use_copy
from assignment_service.db.lists import LOOKUP_CHUNK, among
from assignment_service.db.records import (
    AssignmentRecord,
    HistoryRecord,
    OverrideRecord,
    RuleSetRecord,
    SalesForceRecord,
)
from assignment_service.db.rows import AnyRow

S = AssignmentRecord.__table__
H = HistoryRecord.__table__
O = OverrideRecord.__table__  # noqa: E741 - table alias


class AssignmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    # sales forces and rule sets
    async def sales_forces(self, tenant_id: str) -> list[SalesForceRecord]:
        q = select(SalesForceRecord).where(SalesForceRecord.tenant_id == tenant_id).order_by(SalesForceRecord.name)
        return list((await self._s.execute(q)).scalars())

    async def sales_force(self, tenant_id: str, name: str) -> SalesForceRecord | None:
        return await self._s.get(SalesForceRecord, (tenant_id, name))

    def add(self, record: object) -> None:
        self._s.add(record)

    async def rule_set(self, tenant_id: str, sales_force: str) -> RuleSetRecord | None:
        return await self._s.get(RuleSetRecord, (tenant_id, sales_force))

    # overrides
    async def overrides(
        self, tenant_id: str, sales_force: str, account_ids: Sequence[str] | None
    ) -> list[OverrideRecord]:
        q = select(OverrideRecord).where(
            OverrideRecord.tenant_id == tenant_id,
            OverrideRecord.sales_force == sales_force,
            OverrideRecord.removed_at.is_(None),
        )
        if account_ids is None:
            return list((await self._s.execute(q)).scalars())
        out: list[OverrideRecord] = []
        for start in range(0, len(account_ids), LOOKUP_CHUNK):
            chunk = account_ids[start : start + LOOKUP_CHUNK]
            out += (await self._s.execute(q.where(among(self._s, OverrideRecord.account_id, chunk)))).scalars()
        return out

    async def override(self, tenant_id: str, sales_force: str, account_id: str) -> OverrideRecord | None:
        found = await self.overrides(tenant_id, sales_force, [account_id])
        return found[0] if found else None

    # current assignments
    async def current(self, tenant_id: str, sales_force: str, account_ids: Sequence[str]) -> dict[str, AnyRow]:
        out: dict[str, AnyRow] = {}
        for start in range(0, len(account_ids), LOOKUP_CHUNK):
            chunk = account_ids[start : start + LOOKUP_CHUNK]
            q = select(S).where(
                S.c.tenant_id == tenant_id, S.c.sales_force == sales_force, among(self._s, S.c.account_id, chunk)
            )
            out.update({r.account_id: r for r in await self._s.execute(q)})
        return out

    async def account_ids_in_units(self, tenant_id: str, sales_force: str, unit_ids: Sequence[str]) -> list[str]:
        out: list[str] = []
        for start in range(0, len(unit_ids), 1000):
            chunk = unit_ids[start : start + 1000]
            q = select(S.c.account_id).where(
                S.c.tenant_id == tenant_id, S.c.sales_force == sales_force, among(self._s, S.c.geo_unit_id, chunk)
            )
            out += (await self._s.execute(q)).scalars()
        return out

    async def account_ids_in_territories(self, tenant_id: str, sales_force: str, codes: Sequence[str]) -> list[str]:
        q = select(S.c.account_id).where(
            S.c.tenant_id == tenant_id, S.c.sales_force == sales_force, S.c.territory_code.in_(list(codes))
        )
        return list((await self._s.execute(q)).scalars())

    async def account_ids_of_rep(self, tenant_id: str, rep_id: str) -> dict[str, list[str]]:
        q = select(S.c.sales_force, S.c.account_id).where(S.c.tenant_id == tenant_id, S.c.rep_id == rep_id)
        out: dict[str, list[str]] = {}
        for r in await self._s.execute(q):
            out.setdefault(r.sales_force, []).append(r.account_id)
        return out

    async def of_account(self, tenant_id: str, account_id: str) -> list[AnyRow]:
        """An account's assignments, each with the alignment that places it now.

        A row's ``alignment_id`` only says whether geography located it: a realignment rewrites the rows of the
        units that changed, not the million that kept their territory, so the alignment is the sales force's.
        """
        return await self.of_accounts(tenant_id, [account_id])

    async def of_accounts(self, tenant_id: str, account_ids: Sequence[str]) -> list[AnyRow]:
        """``of_account`` for many accounts, ordered by account then sales force.

        Looked up with the tenant's sales forces named: every assignment is written for a ``SalesForceRecord``
        (the engine's plans are built on one), and (tenant, sales force, account) is the primary key, so each
        account is an index lookup per sales force. Filtered on (tenant, account) alone, or joined to the sales
        forces (SQLite's planner then starts from the assignments), it walked every assignment of the tenant
        (150 ms for one account of the 50,000-account demo on SQLite, seconds at a million on PostgreSQL).
        """
        sf = SalesForceRecord.__table__
        names = list((await self._s.execute(select(sf.c.name).where(sf.c.tenant_id == tenant_id))).scalars())
        if not names:
            return []
        alignment = (
            select(sf.c.alignment_id)
            .where(sf.c.tenant_id == S.c.tenant_id, sf.c.name == S.c.sales_force)
            .scalar_subquery()
        )
        located_in = case((S.c.alignment_id.is_(None), None), else_=alignment).label("alignment_id")
        out: list[AnyRow] = []
        for start in range(0, len(account_ids), LOOKUP_CHUNK):
            chunk = account_ids[start : start + LOOKUP_CHUNK]
            q = (
                select(*(c for c in S.c if c.name != "alignment_id"), located_in)
                .where(
                    S.c.tenant_id == tenant_id,
                    among(self._s, S.c.sales_force, names),
                    among(self._s, S.c.account_id, chunk),
                )
                .order_by(S.c.account_id, S.c.sales_force)
            )
            out += (await self._s.execute(q)).all()
        return out

    async def page(
        self,
        tenant_id: str,
        sales_force: str,
        *,
        unassigned: bool | None,
        territory_code: str | None,
        limit: int,
        offset: int,
        rep_id: str | None = None,
    ) -> Sequence[AnyRow]:
        q = select(S).where(S.c.tenant_id == tenant_id, S.c.sales_force == sales_force)
        if rep_id is not None:
            q = q.where(S.c.rep_id == rep_id)
        if unassigned is True:
            q = q.where(S.c.territory_code.is_(None))
        elif unassigned is False:
            q = q.where(S.c.territory_code.is_not(None))
        if territory_code:
            q = q.where(S.c.territory_code == territory_code)
        return (await self._s.execute(q.order_by(S.c.external_id).limit(limit).offset(offset))).all()

    async def count_by_territory(self, tenant_id: str, sales_force: str) -> dict[str | None, int]:
        q = (
            select(S.c.territory_code, func.count())
            .where(S.c.tenant_id == tenant_id, S.c.sales_force == sales_force)
            .group_by(S.c.territory_code)
        )
        return {r[0]: int(r[1]) for r in await self._s.execute(q)}

    async def insert_many(self, rows: list[dict[str, Any]]) -> None:
        await insert_rows(self._s, S, rows, looked_up_by_key=True)

    async def update_many(self, rows: list[dict[str, Any]]) -> None:
        if use_copy(self._s, rows):
            await copy_update_rows(self._s, S, rows)
        elif rows:
            await self._s.execute(update(AssignmentRecord), rows)

    async def end_for_accounts(self, tenant_id: str, account_ids: Sequence[str]) -> list[AnyRow]:
        """Delete the accounts' assignments in every sales force; answers them as they were (``of_accounts``)."""
        rows = await self.of_accounts(tenant_id, account_ids)
        by_sales_force: dict[str, list[str]] = {}
        for r in rows:
            by_sales_force.setdefault(r.sales_force, []).append(r.account_id)
        for sales_force, ids in by_sales_force.items():
            for start in range(0, len(ids), LOOKUP_CHUNK):
                await self._s.execute(
                    S.delete().where(
                        S.c.tenant_id == tenant_id,
                        S.c.sales_force == sales_force,  # the primary key's order: an index lookup per account
                        among(self._s, S.c.account_id, ids[start : start + LOOKUP_CHUNK]),
                    )
                )
        return rows

    # history
    async def add_history(self, rows: list[dict[str, Any]]) -> None:
        """Insert history rows; a row that does not say who made the change is the current actor's."""
        if rows and "changed_by" not in rows[0]:
            actor = current_actor()
            for row in rows:
                row["changed_by"] = actor
        await insert_rows(self._s, H, rows)

    async def owner_at(self, tenant_id: str, sales_force: str, account_id: str, at: datetime) -> AnyRow | None:
        """The history row that made the account's owner in the sales force at ``at`` (None: it had none yet).

        Every change of territory or rep is a history row, so the last one written by then names the owner.
        """
        q = (
            select(H)
            .where(
                H.c.tenant_id == tenant_id,
                H.c.account_id == account_id,
                H.c.sales_force == sales_force,
                H.c.changed_at <= at.astimezone(UTC),
            )
            .order_by(H.c.seq.desc())
            .limit(1)
        )
        return (await self._s.execute(q)).first()

    async def history_of(self, tenant_id: str, account_id: str) -> Sequence[AnyRow]:
        q = select(H).where(H.c.tenant_id == tenant_id, H.c.account_id == account_id).order_by(H.c.seq)
        return (await self._s.execute(q)).all()

    async def run_totals(self, tenant_id: str, run_id: str) -> Sequence[AnyRow]:
        """A run's changes grouped by (from, to) territory and rep: counts and potential, summed in SQL."""
        q = (
            select(
                H.c.from_territory_code,
                H.c.to_territory_code,
                H.c.from_rep_id,
                H.c.to_rep_id,
                func.count().label("accounts"),
                func.coalesce(func.sum(H.c.potential), 0.0).label("potential"),
            )
            .where(H.c.tenant_id == tenant_id, H.c.run_id == run_id)
            .group_by(H.c.from_territory_code, H.c.to_territory_code, H.c.from_rep_id, H.c.to_rep_id)
        )
        return (await self._s.execute(q)).all()

    async def run_changes(self, tenant_id: str, run_id: str, limit: int | None, offset: int) -> Sequence[AnyRow]:
        q = select(H).where(H.c.tenant_id == tenant_id, H.c.run_id == run_id).order_by(H.c.seq).offset(offset)
        if limit is not None:
            q = q.limit(limit)
        return (await self._s.execute(q)).all()
