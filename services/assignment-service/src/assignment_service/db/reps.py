"""Reps and roster entries."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from assignment_service.db.records import RepRecord, RosterEntryRecord
from assignment_service.db.rows import AnyRow

R = RepRecord.__table__
E = RosterEntryRecord.__table__


class RepRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, tenant_id: str, external_id: str) -> RepRecord | None:
        q = select(RepRecord).where(RepRecord.tenant_id == tenant_id, RepRecord.external_id == external_id)
        return (await self._s.execute(q)).scalar_one_or_none()

    async def get_by_id(self, tenant_id: str, rep_id: str) -> RepRecord | None:
        rep = await self._s.get(RepRecord, rep_id)
        return rep if rep is not None and rep.tenant_id == tenant_id else None

    def add(self, rep: RepRecord) -> None:
        self._s.add(rep)

    # Annotations after this method say `builtins.list`: in the class body `list` is this method.
    async def list(self, tenant_id: str, limit: int, offset: int, external_id: str | None = None) -> list[RepRecord]:
        q = select(RepRecord).where(RepRecord.tenant_id == tenant_id).order_by(RepRecord.external_id)
        if external_id is not None:
            q = q.where(RepRecord.external_id == external_id)
        return list((await self._s.execute(q.limit(limit).offset(offset))).scalars())

    async def external_ids(self, tenant_id: str) -> dict[str, str]:
        rows = await self._s.execute(select(R.c.id, R.c.external_id).where(R.c.tenant_id == tenant_id))
        return {r.id: r.external_id for r in rows}

    async def primary_reps(self, tenant_id: str, sales_force: str, on: date) -> dict[str, str]:
        """territory code -> the rep holding it as primary on ``on`` (active, not deleted; the latest start wins, then
        the smallest external id)."""
        q = (
            select(E.c.territory_code, E.c.rep_id)
            .join(R, R.c.id == E.c.rep_id)
            .where(
                E.c.tenant_id == tenant_id,
                E.c.sales_force == sales_force,
                E.c.role == "primary",
                E.c.effective_from <= on,
                or_(E.c.effective_to.is_(None), E.c.effective_to > on),
                R.c.active.is_(True),
                R.c.deleted_at.is_(None),
            )
            .order_by(E.c.territory_code, E.c.effective_from.desc(), R.c.external_id)
        )
        out: dict[str, str] = {}
        for row in await self._s.execute(q):
            out.setdefault(row.territory_code, row.rep_id)
        return out

    async def primary_entry_overlapping(
        self, tenant_id: str, sales_force: str, territory_code: str, start: date, end: date | None, other_than_rep: str
    ) -> RosterEntryRecord | None:
        """Another active rep's primary entry on the territory for some day of ``[start, end)`` (None: open-ended)."""
        q = (
            select(RosterEntryRecord)
            .join(R, R.c.id == E.c.rep_id)
            .where(
                E.c.tenant_id == tenant_id,
                E.c.sales_force == sales_force,
                E.c.territory_code == territory_code,
                E.c.role == "primary",
                E.c.rep_id != other_than_rep,
                or_(E.c.effective_to.is_(None), E.c.effective_to > start),
                R.c.active.is_(True),
                R.c.deleted_at.is_(None),
            )
            .order_by(E.c.effective_from)
            .limit(1)
        )
        if end is not None:
            q = q.where(E.c.effective_from < end)
        return (await self._s.execute(q)).scalar_one_or_none()

    def add_entry(self, entry: RosterEntryRecord) -> None:
        self._s.add(entry)

    async def entry(self, tenant_id: str, entry_id: str) -> RosterEntryRecord | None:
        e = await self._s.get(RosterEntryRecord, entry_id)
        return e if e is not None and e.tenant_id == tenant_id else None

    async def entries(
        self, tenant_id: str, sales_force: str | None, territory_code: str | None, rep_id: str | None
    ) -> Sequence[AnyRow]:
        q = select(E, R.c.external_id.label("rep_external_id")).join(R, R.c.id == E.c.rep_id)
        q = q.where(E.c.tenant_id == tenant_id)
        if sales_force:
            q = q.where(E.c.sales_force == sales_force)
        if territory_code:
            q = q.where(E.c.territory_code == territory_code)
        if rep_id:
            q = q.where(E.c.rep_id == rep_id)
        return (await self._s.execute(q.order_by(E.c.sales_force, E.c.territory_code, E.c.effective_from))).all()

    async def territories_of_rep(self, tenant_id: str, rep_id: str) -> builtins.list[tuple[str, str]]:
        q = select(E.c.sales_force, E.c.territory_code).where(E.c.tenant_id == tenant_id, E.c.rep_id == rep_id)
        return sorted({(r.sales_force, r.territory_code) for r in await self._s.execute(q)})
