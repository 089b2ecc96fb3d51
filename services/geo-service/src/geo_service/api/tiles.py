"""Mapbox Vector Tiles of a layer's units, for maps with more units than GeoJSON can draw smoothly."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from territory_shared.api.problems import InvalidInput, NotFound
from territory_shared.api.tenancy import TenantId

from geo_service.api.deps import Uow
from geo_service.domain.tiles import LAYER_NAME, TileAddress
from geo_service.tile_cache import TileCache

router = APIRouter(prefix="/v1/layers", tags=["layers"])

MVT = "application/vnd.mapbox-vector-tile"
# A layer never changes after import: a tile can be kept as long as the layer lives.
CACHE_CONTROL = "private, max-age=604800, immutable"
TILE_FORMAT = 1


def tile_cache(request: Request) -> TileCache:
    return request.app.state.tile_cache  # type: ignore[no-any-return]


Tiles = Annotated[TileCache, Depends(tile_cache)]


@router.get(
    "/{layer_id}/tiles/{z}/{x}/{y}.mvt",
    summary="The layer's units as a Mapbox Vector Tile",
    description=f"One layer, `{LAYER_NAME}`, with each unit's `unit_id` as a property; shapes cut from the full "
    "geometry, clipped with a small buffer and snapped to the tile's 4096-step grid (shared borders stay shared). "
    "204 when no unit reaches the tile.",
    response_class=Response,
    responses={
        200: {"content": {MVT: {}}, "description": "The tile"},
        204: {"description": "No unit reaches the tile"},
        304: {"description": "The tile named by If-None-Match is still current"},
    },
)
async def layer_tile(
    request: Request, layer_id: str, z: int, x: int, y: int, tenant: TenantId, uow: Uow, tiles: Tiles
) -> Response:
    address = TileAddress(z, x, y)
    problem = address.problem()
    if problem is not None:
        field, reason = problem
        raise InvalidInput(reason, field=field)
    layer = await tiles.layer(uow, tenant, layer_id)
    if layer is None:
        raise NotFound(f"Layer {layer_id} does not exist.")
    etag = f'"{layer_id}/{z}/{x}/{y}/{TILE_FORMAT}"'
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    data = await tiles.tile(uow, layer, address)
    if not data:
        return Response(status_code=status.HTTP_204_NO_CONTENT, headers=headers)
    return Response(data, media_type=MVT, headers=headers)
