from __future__ import annotations

from geo_service.db.unit_of_work import UnitOfWork
from geo_service.use_cases.guards import load_for_update


async def delete_territory(uow: UnitOfWork, tenant_id: str, territory_id: str, *, expected_version: int | None) -> None:
    """Delete a territory. Emits ``geo.territory.deleted.v1``."""
    async with uow:
        territory = await load_for_update(uow, tenant_id, territory_id, expected_version)
        event = territory.delete()
        await uow.territories.remove(territory)
        uow.emit(tenant_id, territory.id, event)
        await uow.commit()
