from __future__ import annotations

from territory_shared.errors import Conflict
from territory_shared.events.geo import AlignmentEditedV1, UnitMove

from geo_service.db.unit_of_work import UnitOfWork
from geo_service.use_cases.guards import load_for_update


async def delete_territory(uow: UnitOfWork, tenant_id: str, territory_id: str, *, expected_version: int | None) -> None:
    """Delete a territory; its units become white space (never dropped). Emits ``geo.territory.deleted.v1``."""
    async with uow:
        territory = await load_for_update(uow, tenant_id, territory_id, expected_version)
        if await uow.territories.has_children(territory_id):
            raise Conflict(f"Territory {territory.code} has child territories: delete or move them first.")
        if territory.alignment_id is not None:
            alignment = await uow.alignments.get(tenant_id, territory.alignment_id)
            assert alignment is not None
            units = await uow.alignments.units_of(alignment.id, territory_id)
            alignment.edited()
            await uow.alignments.save(alignment)
            if units:
                await uow.alignments.set_territory(alignment.id, units, None)
                uow.emit(
                    tenant_id,
                    alignment.id,
                    AlignmentEditedV1(
                        alignment_id=alignment.id,
                        version=alignment.version,
                        moves=[
                            UnitMove(unit_id=u, from_territory_id=territory_id, to_territory_id=None) for u in units
                        ],
                    ),
                )
        event = territory.delete()
        await uow.territories.remove(territory)
        uow.emit(tenant_id, territory.id, event)
        await uow.commit()
