"""The map's editing primitives on a draft: move a set of units to a territory, lock or unlock units."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from territory_shared.errors import BadRequest, Conflict, NotFound
from territory_shared.events.geo import AlignmentEditedV1, UnitMove

from geo_service.db.unit_of_work import UnitOfWork
from geo_service.domain.alignment import Alignment
from geo_service.spatial_index import IndexCache
from geo_service.use_cases.alignments import load_alignment
from geo_service.use_cases.territory_shapes import refresh_shapes


@dataclass(frozen=True)
class MoveResult:
    alignment: Alignment
    moved: int
    touched_territories: list[str]


async def move_units(
    uow: UnitOfWork,
    cache: IndexCache,
    tenant_id: str,
    alignment_id: str,
    unit_ids: Sequence[str],
    territory_id: str | None,
    expected_version: int | None,
) -> MoveResult:
    """Move units to a leaf territory (or to none: white space), re-dissolving the territories touched.

    Locked units, unknown units, or a territory with children refuse the whole move: nothing changes.
    """
    if not unit_ids:
        raise BadRequest("unit_ids is empty", field="unit_ids")
    async with uow:
        alignment = await load_alignment(uow, tenant_id, alignment_id, expected_version)
        alignment.require_draft("edited")
        if territory_id is not None:
            target = await uow.territories.get(tenant_id, territory_id)
            if target is None or target.alignment_id != alignment.id:
                raise NotFound(f"Territory {territory_id} is not in alignment {alignment.id}.", field="territory_id")
            if await uow.territories.has_children(territory_id):
                raise Conflict(
                    f"Territory {target.code} has child territories: move units to a leaf.", field="territory_id"
                )
        unique = list(dict.fromkeys(unit_ids))
        current = await uow.alignments.memberships(alignment.id, unique)
        unknown = [u for u in unique if u not in current]
        if unknown:
            raise NotFound(
                f"{len(unknown)} unit(s) are not in this alignment's layer.", field="unit_ids", unit_ids=unknown[:100]
            )
        locked = [u for u in unique if current[u][1]]
        if locked:
            raise Conflict(
                f"{len(locked)} unit(s) are locked; unlock them first.", field="unit_ids", unit_ids=locked[:100]
            )
        moving = [u for u in unique if current[u][0] != territory_id]
        alignment.edited()
        await uow.alignments.save(alignment)
        await uow.flush()  # the version check: a concurrent edit fails here with 412
        if moving:
            await uow.alignments.set_territory(alignment.id, moving, territory_id)
            layer = await cache.layer(uow, alignment.layer_id)
            touched = {current[u][0] for u in moving} | {territory_id}
            await refresh_shapes(uow, alignment.id, touched, layer)
        uow.emit(
            tenant_id,
            alignment.id,
            AlignmentEditedV1(
                alignment_id=alignment.id,
                version=alignment.version,
                moves=[
                    UnitMove(unit_id=u, from_territory_id=current[u][0], to_territory_id=territory_id) for u in moving
                ],
            ),
        )
        await uow.commit()
        touched_ids = sorted(t for t in ({current[u][0] for u in moving} | {territory_id}) if t)
        return MoveResult(alignment, len(moving), touched_ids)


async def lock_units(
    uow: UnitOfWork,
    tenant_id: str,
    alignment_id: str,
    unit_ids: Sequence[str],
    locked: bool,
    expected_version: int | None,
) -> Alignment:
    if not unit_ids:
        raise BadRequest("unit_ids is empty", field="unit_ids")
    async with uow:
        alignment = await load_alignment(uow, tenant_id, alignment_id, expected_version)
        current = await uow.alignments.memberships(alignment.id, list(unit_ids))
        unknown = [u for u in unit_ids if u not in current]
        if unknown:
            raise NotFound(
                f"{len(unknown)} unit(s) are not in this alignment's layer.", field="unit_ids", unit_ids=unknown[:100]
            )
        alignment.edited()
        await uow.alignments.save(alignment)
        await uow.flush()
        await uow.alignments.set_locked(alignment.id, list(unit_ids), locked)
        await uow.commit()
        return alignment
