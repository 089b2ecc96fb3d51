from __future__ import annotations

from territory_shared.errors import Conflict, NotFound
from territory_shared.events.geo import LayerDeletedV1

from geo_service.db.unit_of_work import UnitOfWork
from geo_service.spatial_index import IndexCache


async def delete_layer(uow: UnitOfWork, cache: IndexCache, tenant_id: str, layer_id: str) -> None:
    """Delete a unit layer with its units and adjacency, when no alignment (in any state) uses it.

    An alignment on the layer refuses the deletion (409, naming each one): delete its drafts first; an active or
    archived alignment keeps its layer for good. Emits ``geo.layer.deleted.v1``.
    """
    async with uow:
        layer = await uow.layers.get(tenant_id, layer_id)
        if layer is None:
            raise NotFound(f"Layer {layer_id} does not exist.")
        using = await uow.layers.alignments_using(layer_id)
        if using:
            names = ", ".join(f"{a.name!r} ({a.state})" for a in using[:10])
            more = f" and {len(using) - 10} more" if len(using) > 10 else ""
            raise Conflict(
                f"Layer {layer.name!r} is used by {len(using)} alignment(s): {names}{more}. "
                "Delete the drafts first; an active or archived alignment keeps its layer.",
                alignments=[
                    {"id": a.id, "name": a.name, "sales_force": a.sales_force, "state": a.state} for a in using
                ],
            )
        name = layer.name
        await uow.layers.remove(layer)
        uow.emit(tenant_id, layer_id, LayerDeletedV1(layer_id=layer_id, name=name))
        # An alignment created on the layer meanwhile fails this flush (its foreign key): 409, nothing deleted.
        await uow.commit()
    cache.forget_layer(layer_id)
