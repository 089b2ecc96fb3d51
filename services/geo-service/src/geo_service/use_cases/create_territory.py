from __future__ import annotations

from territory_shared.api.problems import Conflict

from geo_service.db.unit_of_work import UnitOfWork
from geo_service.domain.territory import Territory


async def create_territory(uow: UnitOfWork, tenant_id: str, code: str, name: str) -> Territory:
    """Create a territory; its code is unique within the tenant. Emits ``geo.territory.created.v1``."""
    async with uow:
        if await uow.territories.code_taken(tenant_id, code):
            raise Conflict(f"A territory with code {code!r} already exists.", field="code")
        territory, event = Territory.create(tenant_id, code, name)
        await uow.territories.add(territory)
        uow.emit(tenant_id, territory.id, event)
        await uow.commit()
        return territory
