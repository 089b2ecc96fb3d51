from __future__ import annotations

import builtins

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from geo_service.db.records import AlignmentRecord, TerritoryRecord
from geo_service.domain.territory import Territory


class TerritoryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, tenant_id: str, territory_id: str) -> Territory | None:
        record = await self._session.get(TerritoryRecord, territory_id)
        if record is None or record.tenant_id != tenant_id:
            return None
        return _to_domain(record)

    async def code_taken(
        self, tenant_id: str, code: str, alignment_id: str | None, except_id: str | None = None
    ) -> bool:
        query = select(TerritoryRecord.id).where(
            TerritoryRecord.tenant_id == tenant_id,
            TerritoryRecord.code == code,
            TerritoryRecord.alignment_id.is_(None)
            if alignment_id is None
            else TerritoryRecord.alignment_id == alignment_id,
        )
        found = (await self._session.execute(query)).scalars().first()
        return found is not None and found != except_id

    # Annotations after this method say `builtins.list`: in the class body `list` is this method.
    async def list(self, tenant_id: str, limit: int, offset: int, alignment_id: str | None = None) -> list[Territory]:
        query = select(TerritoryRecord).where(TerritoryRecord.tenant_id == tenant_id)
        if alignment_id is not None:
            query = query.where(TerritoryRecord.alignment_id == alignment_id)
        query = query.order_by(TerritoryRecord.code, TerritoryRecord.id).limit(limit).offset(offset)
        return [_to_domain(r) for r in (await self._session.execute(query)).scalars()]

    async def codes_of_sales_force(self, tenant_id: str, sales_force: str) -> builtins.list[str]:
        """Every territory code of the sales force's alignments that are not archived (active and drafts)."""
        query = (
            select(TerritoryRecord.code)
            .join(AlignmentRecord, AlignmentRecord.id == TerritoryRecord.alignment_id)
            .where(
                TerritoryRecord.tenant_id == tenant_id,
                AlignmentRecord.tenant_id == tenant_id,
                AlignmentRecord.sales_force == sales_force,
                AlignmentRecord.state != "archived",
            )
            .distinct()
            .order_by(TerritoryRecord.code)
        )
        return list((await self._session.execute(query)).scalars())

    async def in_alignment(self, alignment_id: str) -> builtins.list[Territory]:
        query = select(TerritoryRecord).where(TerritoryRecord.alignment_id == alignment_id)
        return [_to_domain(r) for r in (await self._session.execute(query.order_by(TerritoryRecord.code))).scalars()]

    async def has_children(self, territory_id: str) -> bool:
        query = select(TerritoryRecord.id).where(TerritoryRecord.parent_id == territory_id).limit(1)
        return (await self._session.execute(query)).first() is not None

    async def add(self, territory: Territory) -> None:
        self._session.add(
            TerritoryRecord(
                id=territory.id,
                tenant_id=territory.tenant_id,
                alignment_id=territory.alignment_id,
                parent_id=territory.parent_id,
                code=territory.code,
                name=territory.name,
                colour=territory.colour,
                version=territory.version,
            )
        )

    async def save(self, territory: Territory) -> None:
        record = await self._session.get(TerritoryRecord, territory.id)
        assert record is not None
        record.code, record.name, record.colour = territory.code, territory.name, territory.colour
        record.parent_id = territory.parent_id
        record.version = territory.version

    async def remove(self, territory: Territory) -> None:
        record = await self._session.get(TerritoryRecord, territory.id)
        if record is not None:
            await self._session.delete(record)


def _to_domain(r: TerritoryRecord) -> Territory:
    return Territory(
        id=r.id,
        tenant_id=r.tenant_id,
        code=r.code,
        name=r.name,
        version=r.version,
        alignment_id=r.alignment_id,
        parent_id=r.parent_id,
        colour=r.colour,
    )
