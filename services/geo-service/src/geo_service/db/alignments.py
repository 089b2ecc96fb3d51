from __future__ import annotations

import builtins
from collections.abc import Sequence

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from geo_service.db.records import AlignmentRecord, MembershipRecord, TerritoryShapeRecord
from geo_service.domain.alignment import ACTIVE, Alignment


class AlignmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, tenant_id: str, alignment_id: str) -> Alignment | None:
        record = await self._session.get(AlignmentRecord, alignment_id)
        return _to_domain(record) if record is not None and record.tenant_id == tenant_id else None

    async def active(self, tenant_id: str, sales_force: str) -> Alignment | None:
        query = select(AlignmentRecord).where(
            AlignmentRecord.tenant_id == tenant_id,
            AlignmentRecord.sales_force == sales_force,
            AlignmentRecord.state == ACTIVE,
        )
        record = (await self._session.execute(query)).scalars().first()
        return _to_domain(record) if record else None

    # Annotations after this method say `builtins.list`: in the class body `list` is this method.
    async def list(self, tenant_id: str, sales_force: str | None, state: str | None) -> list[Alignment]:
        query = select(AlignmentRecord).where(AlignmentRecord.tenant_id == tenant_id)
        if sales_force:
            query = query.where(AlignmentRecord.sales_force == sales_force)
        if state:
            query = query.where(AlignmentRecord.state == state)
        return [
            _to_domain(r) for r in (await self._session.execute(query.order_by(AlignmentRecord.created_at))).scalars()
        ]

    async def add(self, alignment: Alignment) -> None:
        self._session.add(
            AlignmentRecord(
                id=alignment.id,
                tenant_id=alignment.tenant_id,
                layer_id=alignment.layer_id,
                sales_force=alignment.sales_force,
                name=alignment.name,
                state=alignment.state,
                version=alignment.version,
                copied_from=alignment.copied_from,
                created_at=alignment.created_at,
                published_at=alignment.published_at,
            )
        )
        await self._session.flush()

    async def save(self, alignment: Alignment) -> None:
        record = await self._session.get(AlignmentRecord, alignment.id)
        assert record is not None
        record.name, record.state, record.layer_id = alignment.name, alignment.state, alignment.layer_id
        record.version, record.published_at = alignment.version, alignment.published_at

    async def delete(self, alignment_id: str) -> None:
        record = await self._session.get(AlignmentRecord, alignment_id)
        if record is not None:
            await self._session.delete(record)

    async def fill_memberships(self, alignment_id: str, layer_id: str) -> None:
        """Every unit of the layer, unassigned: white space is a row, never a missing one."""
        await self._session.execute(
            text(
                "INSERT INTO memberships (alignment_id, unit_id, territory_id, locked) "
                "SELECT :a, unit_id, NULL, false FROM units WHERE layer_id = :l"
            ),
            {"a": alignment_id, "l": layer_id},
        )

    async def copy_memberships(self, source_id: str, target_id: str) -> None:
        """Copy unit -> territory by territory code (territories were copied first), all in SQL."""
        await self._session.execute(
            text(
                "INSERT INTO memberships (alignment_id, unit_id, territory_id, locked) "
                "SELECT :target, m.unit_id, t2.id, m.locked FROM memberships m "
                "LEFT JOIN territories t1 ON t1.id = m.territory_id "
                "LEFT JOIN territories t2 ON t2.alignment_id = :target AND t2.code = t1.code "
                "WHERE m.alignment_id = :source"
            ),
            {"source": source_id, "target": target_id},
        )

    async def copy_shapes(self, source_id: str, target_id: str) -> None:
        await self._session.execute(
            text(
                "INSERT INTO territory_shapes (territory_id, alignment_id, wkb, display_wkb, unit_count) "
                "SELECT t2.id, :target, s.wkb, s.display_wkb, s.unit_count FROM territory_shapes s "
                "JOIN territories t1 ON t1.id = s.territory_id "
                "JOIN territories t2 ON t2.alignment_id = :target AND t2.code = t1.code "
                "WHERE s.alignment_id = :source"
            ),
            {"source": source_id, "target": target_id},
        )

    async def memberships(
        self, alignment_id: str, unit_ids: Sequence[str] | None = None
    ) -> dict[str, tuple[str | None, bool]]:
        """unit_id -> (territory_id, locked)."""
        query = select(MembershipRecord.unit_id, MembershipRecord.territory_id, MembershipRecord.locked).where(
            MembershipRecord.alignment_id == alignment_id
        )
        if unit_ids is not None:
            query = query.where(MembershipRecord.unit_id.in_(list(unit_ids)))
        return {r.unit_id: (r.territory_id, r.locked) for r in await self._session.execute(query)}

    async def set_territory(self, alignment_id: str, unit_ids: Sequence[str], territory_id: str | None) -> None:
        for start in range(0, len(unit_ids), 5_000):
            await self._session.execute(
                update(MembershipRecord)
                .where(
                    MembershipRecord.alignment_id == alignment_id,
                    MembershipRecord.unit_id.in_(list(unit_ids[start : start + 5_000])),
                )
                .values(territory_id=territory_id)
            )

    async def replace_units(
        self, alignment_id: str, removed: Sequence[str], added: Sequence[tuple[str, str | None]]
    ) -> None:
        """Units leave the alignment and others join it, unlocked, with their territory (a split: pieces in place
        of the units they split)."""
        for start in range(0, len(removed), 5_000):
            await self._session.execute(
                delete(MembershipRecord)
                .where(
                    MembershipRecord.alignment_id == alignment_id,
                    MembershipRecord.unit_id.in_(list(removed[start : start + 5_000])),
                )
                .execution_options(synchronize_session=False)
            )
        rows = [{"alignment_id": alignment_id, "unit_id": u, "territory_id": t, "locked": False} for u, t in added]
        for start in range(0, len(rows), 5_000):
            await self._session.execute(insert(MembershipRecord), rows[start : start + 5_000])

    async def set_locked(self, alignment_id: str, unit_ids: Sequence[str], locked: bool) -> None:
        await self._session.execute(
            update(MembershipRecord)
            .where(MembershipRecord.alignment_id == alignment_id, MembershipRecord.unit_id.in_(list(unit_ids)))
            .values(locked=locked)
        )

    async def units_of(self, alignment_id: str, territory_id: str) -> builtins.list[str]:
        query = select(MembershipRecord.unit_id).where(
            MembershipRecord.alignment_id == alignment_id, MembershipRecord.territory_id == territory_id
        )
        return list((await self._session.execute(query)).scalars())

    async def shapes(self, alignment_id: str) -> dict[str, TerritoryShapeRecord]:
        query = select(TerritoryShapeRecord).where(TerritoryShapeRecord.alignment_id == alignment_id)
        return {r.territory_id: r for r in (await self._session.execute(query)).scalars()}

    async def put_shape(
        self, alignment_id: str, territory_id: str, wkb: bytes | None, display_wkb: bytes | None, unit_count: int
    ) -> None:
        record = await self._session.get(TerritoryShapeRecord, territory_id)
        if record is None:
            self._session.add(
                TerritoryShapeRecord(
                    territory_id=territory_id,
                    alignment_id=alignment_id,
                    wkb=wkb,
                    display_wkb=display_wkb,
                    unit_count=unit_count,
                )
            )
        else:
            record.wkb, record.display_wkb, record.unit_count = wkb, display_wkb, unit_count


def _to_domain(r: AlignmentRecord) -> Alignment:
    return Alignment(
        id=r.id,
        tenant_id=r.tenant_id,
        layer_id=r.layer_id,
        sales_force=r.sales_force,
        name=r.name,
        state=r.state,
        version=r.version,
        copied_from=r.copied_from,
        created_at=r.created_at,
        published_at=r.published_at,
    )
