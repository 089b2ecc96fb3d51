from __future__ import annotations

from territory_shared.api.problems import Conflict

from geo_service.db.unit_of_work import UnitOfWork
from geo_service.domain.territory import Territory
from geo_service.use_cases.guards import load_for_update


async def rename_territory(
    uow: UnitOfWork,
    tenant_id: str,
    territory_id: str,
    *,
    name: str | None,
    code: str | None,
    colour: str | None = None,
    expected_version: int | None,
) -> Territory:
    """Change a territory's name, code and/or colour. A stale ``expected_version`` changes nothing (412).

    Emits ``geo.territory.renamed.v1`` when something changed.
    """
    async with uow:
        territory = await load_for_update(uow, tenant_id, territory_id, expected_version)
        if code is not None and await uow.territories.code_taken(
            tenant_id, code, territory.alignment_id, except_id=territory_id
        ):
            raise Conflict(f"A territory with code {code!r} already exists.", field="code")
        event = territory.rename(name=name, code=code, colour=colour)
        if event is not None:
            await uow.territories.save(territory)
            uow.emit(tenant_id, territory.id, event)
            await uow.commit()
        return territory
