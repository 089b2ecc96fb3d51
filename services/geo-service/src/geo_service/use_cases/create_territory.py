from __future__ import annotations

from territory_shared.errors import Conflict, NotFound

from geo_service.db.unit_of_work import UnitOfWork
from geo_service.domain.territory import Territory


async def create_territory(
    uow: UnitOfWork,
    tenant_id: str,
    code: str,
    name: str,
    *,
    alignment_id: str | None = None,
    parent_id: str | None = None,
    colour: str | None = None,
) -> Territory:
    """Create a territory, in a draft alignment's hierarchy or on its own; its code is unique there.

    Emits ``geo.territory.created.v1``.
    """
    async with uow:
        if alignment_id is not None:
            alignment = await uow.alignments.get(tenant_id, alignment_id)
            if alignment is None:
                raise NotFound(f"Alignment {alignment_id} does not exist.", field="alignment_id")
            alignment.require_draft("edited")
        if parent_id is not None:
            parent = await uow.territories.get(tenant_id, parent_id)
            if parent is None or parent.alignment_id != alignment_id:
                raise NotFound(f"Parent territory {parent_id} is not in the same alignment.", field="parent_id")
            if alignment_id and await uow.alignments.units_of(alignment_id, parent_id):
                raise Conflict(
                    f"Territory {parent.code} owns units: a territory with units cannot have children.",
                    field="parent_id",
                )
        if await uow.territories.code_taken(tenant_id, code, alignment_id):
            raise Conflict(f"A territory with code {code!r} already exists.", field="code")
        territory, event = Territory.create(
            tenant_id, code, name, alignment_id=alignment_id, parent_id=parent_id, colour=colour
        )
        await uow.territories.add(territory)
        uow.emit(tenant_id, territory.id, event)
        await uow.commit()
        return territory
