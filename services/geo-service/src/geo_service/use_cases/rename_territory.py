from __future__ import annotations

from territory_shared.errors import Conflict, InvalidInput

from geo_service.db.unit_of_work import UnitOfWork
from geo_service.domain.hierarchy import would_cycle
from geo_service.domain.territory import UNCHANGED, Territory, Unchanged
from geo_service.spatial_index import IndexCache
from geo_service.use_cases.guards import load_for_update
from geo_service.use_cases.territory_shapes import refresh_shapes


async def rename_territory(
    uow: UnitOfWork,
    tenant_id: str,
    territory_id: str,
    *,
    name: str | None,
    code: str | None,
    colour: str | None | Unchanged = UNCHANGED,
    parent_id: str | None | Unchanged = UNCHANGED,
    expected_version: int | None,
    cache: IndexCache | None = None,
) -> Territory:
    """Change a territory's name, code, colour and/or parent. A stale ``expected_version`` changes nothing (412).

    A new parent (None: the top level) is a territory of the same alignment, neither this territory nor one of its
    descendants (422 on ``parent_id``) and owning no units (409: units belong to leaves); the alignment must be a
    draft (409). The dissolved shapes of the old and the new ancestors are recomputed (``cache`` gives the layer).

    Emits ``geo.territory.renamed.v1`` (which carries ``parent_id``) when something changed.
    """
    async with uow:
        territory = await load_for_update(uow, tenant_id, territory_id, expected_version)
        if code is not None and await uow.territories.code_taken(
            tenant_id, code, territory.alignment_id, except_id=territory_id
        ):
            raise Conflict(f"A territory with code {code!r} already exists.", field="code")
        old_parent, moving = territory.parent_id, False
        if not isinstance(parent_id, Unchanged) and parent_id != old_parent:
            await _check_new_parent(uow, tenant_id, territory, parent_id)
            moving = True
        event = territory.rename(name=name, code=code, colour=colour, parent_id=parent_id)
        if event is None:
            return territory
        await uow.territories.save(territory)
        if moving and territory.alignment_id is not None:
            alignment = await uow.alignments.get(tenant_id, territory.alignment_id)
            assert alignment is not None
            # A version bump orders this against a concurrent move of units into the new parent (one gets 412).
            alignment.edited()
            await uow.alignments.save(alignment)
            await uow.flush()
            if cache is not None:
                layer = await cache.layer(uow, alignment.layer_id)
                await refresh_shapes(uow, alignment.id, {old_parent, territory.parent_id}, layer)
        uow.emit(tenant_id, territory.id, event)
        await uow.commit()
        return territory


async def _check_new_parent(uow: UnitOfWork, tenant_id: str, territory: Territory, parent_id: str | None) -> None:
    if territory.alignment_id is not None:
        alignment = await uow.alignments.get(tenant_id, territory.alignment_id)
        assert alignment is not None
        alignment.require_draft("edited")
    if parent_id is None:
        return
    parent = await uow.territories.get(tenant_id, parent_id)
    if parent is None or parent.alignment_id != territory.alignment_id:
        raise InvalidInput(
            f"Territory {parent_id} is not a territory of the same alignment as {territory.code}.", field="parent_id"
        )
    if territory.alignment_id is None:
        parents = {territory.id: territory.parent_id, parent.id: parent.parent_id}
        # Territories outside alignments: walk up from the new parent one by one.
        node = parent.parent_id
        while node is not None and node not in parents:
            above = await uow.territories.get(tenant_id, node)
            parents[node] = above.parent_id if above is not None else None
            node = parents[node]
    else:
        parents = {t.id: t.parent_id for t in await uow.territories.in_alignment(territory.alignment_id)}
    if would_cycle(territory.id, parent_id, parents):
        reason = "itself" if parent_id == territory.id else "one of its descendants"
        raise InvalidInput(
            f"Territory {parent.code} cannot be the parent of {territory.code}: it is {reason}.", field="parent_id"
        )
    if territory.alignment_id is not None and await uow.alignments.units_of(territory.alignment_id, parent_id):
        raise Conflict(
            f"Territory {parent.code} owns units: a territory with units cannot have children. "
            "Move its units to a leaf first.",
            field="parent_id",
        )
