"""Re-import an alignment from ``unit_id,territory_code`` rows (the CSV export), into a draft."""

from __future__ import annotations

from collections.abc import Sequence

from territory_shared.errors import BadRequest
from territory_shared.events.geo import AlignmentEditedV1, UnitMove

from geo_service.db.unit_of_work import UnitOfWork
from geo_service.domain.territory import Territory
from geo_service.spatial_index import IndexCache
from geo_service.use_cases.alignments import load_alignment
from geo_service.use_cases.territory_shapes import refresh_shapes


async def import_assignments(
    uow: UnitOfWork,
    cache: IndexCache,
    tenant_id: str,
    alignment_id: str,
    rows: Sequence[tuple[str, str | None]],
    expected_version: int | None,
) -> dict[str, int]:
    """Assign each listed unit to the territory with that code (created when missing; empty code: white space).

    Unknown unit ids or duplicate rows refuse the whole import. Units not listed keep their territory.
    """
    async with uow:
        alignment = await load_alignment(uow, tenant_id, alignment_id, expected_version)
        alignment.require_draft("edited")
        current = await uow.alignments.memberships(alignment.id)
        unknown = [u for u, _ in rows if u not in current]
        seen: set[str] = set()
        duplicates = [u for u, _ in rows if u in seen or seen.add(u)]  # type: ignore[func-returns-value]
        if unknown or duplicates:
            errors = [{"field": "unit_id", "unit_id": u, "reason": "not a unit of the layer"} for u in unknown[:100]]
            errors += [{"field": "unit_id", "unit_id": u, "reason": "listed twice"} for u in duplicates[:100]]
            raise BadRequest(
                f"{len(unknown)} unknown and {len(duplicates)} duplicate unit id(s); nothing changed.", errors=errors
            )
        territories = {t.code: t for t in await uow.territories.in_alignment(alignment.id)}
        created = 0
        for code in sorted({c for _, c in rows if c} - set(territories)):
            territory, event = Territory.create(tenant_id, code, code, alignment_id=alignment.id)
            await uow.territories.add(territory)
            uow.emit(tenant_id, territory.id, event)
            territories[code] = territory
            created += 1
        await uow.flush()
        by_target: dict[str | None, list[str]] = {}
        moves = []
        for unit_id, unit_code in rows:
            target = territories[unit_code].id if unit_code else None
            if current[unit_id][0] != target:
                by_target.setdefault(target, []).append(unit_id)
                moves.append(UnitMove(unit_id=unit_id, from_territory_id=current[unit_id][0], to_territory_id=target))
        for target, units in by_target.items():
            await uow.alignments.set_territory(alignment.id, units, target)
        alignment.edited()
        await uow.alignments.save(alignment)
        if moves:
            layer = await cache.layer(uow, alignment.layer_id)
            touched = {m.from_territory_id for m in moves} | {m.to_territory_id for m in moves}
            await refresh_shapes(uow, alignment.id, touched, layer)
            uow.emit(
                tenant_id,
                alignment.id,
                AlignmentEditedV1(alignment_id=alignment.id, version=alignment.version, moves=moves),
            )
        await uow.commit()
        return {"moved": len(moves), "territories_created": created, "version": alignment.version}
