from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from territory_shared.api.etags import etag_of
from territory_shared.api.limits import MAX_OFFSET
from territory_shared.api.problems import NotFound
from territory_shared.api.tenancy import TenantId

from geo_service.api.deps import Cache, ExpectedVersion, Uow
from geo_service.api.schemas import TerritoryCreate, TerritoryPage, TerritoryRead, TerritoryUpdate
from geo_service.domain.territory import UNCHANGED, Territory
from geo_service.use_cases.create_territory import create_territory
from geo_service.use_cases.delete_territory import delete_territory
from geo_service.use_cases.rename_territory import rename_territory

router = APIRouter(prefix="/v1/territories", tags=["territories"])


def _read(t: Territory, response: Response | None = None) -> TerritoryRead:
    if response is not None:
        response.headers["ETag"] = etag_of(t.version)
    return TerritoryRead(
        id=t.id,
        code=t.code,
        name=t.name,
        version=t.version,
        alignment_id=t.alignment_id,
        parent_id=t.parent_id,
        colour=t.colour,
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TerritoryRead)
async def create(
    request: Request, body: TerritoryCreate, tenant: TenantId, uow: Uow, response: Response
) -> TerritoryRead:
    territory = await create_territory(
        uow, tenant, body.code, body.name, alignment_id=body.alignment_id, parent_id=body.parent_id, colour=body.colour
    )
    response.headers["Location"] = str(request.url_for("get_territory", territory_id=territory.id))
    return _read(territory, response)


@router.get("", response_model=TerritoryPage)
async def list_territories(
    request: Request,
    tenant: TenantId,
    uow: Uow,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    alignment_id: str | None = None,
) -> TerritoryPage:
    async with uow:
        items = await uow.territories.list(tenant, limit + 1, offset, alignment_id)
    next_url = str(request.url.include_query_params(offset=offset + limit)) if len(items) > limit else None
    return TerritoryPage(
        items=[_read(t) for t in items[:limit]],
        limit=limit,
        offset=offset,
        next=next_url,
    )


@router.get(
    "/codes",
    summary="Every territory code of a sales force's active and draft alignments (what a roster or override may name)",
)
async def list_codes(
    tenant: TenantId,
    uow: Uow,
    sales_force: Annotated[str, Query(min_length=1, max_length=100)],
) -> dict[str, object]:
    async with uow:
        codes = await uow.territories.codes_of_sales_force(tenant, sales_force)
    return {"sales_force": sales_force, "codes": codes}


@router.get("/{territory_id}", response_model=TerritoryRead, name="get_territory")
async def get(territory_id: str, tenant: TenantId, uow: Uow, response: Response) -> TerritoryRead:
    async with uow:
        territory = await uow.territories.get(tenant, territory_id)
    if territory is None:
        raise NotFound(f"Territory {territory_id} does not exist.")
    return _read(territory, response)


@router.patch(
    "/{territory_id}",
    response_model=TerritoryRead,
    summary="Rename, recolour or move a territory under another parent (parent_id null: the top level)",
)
async def update(
    territory_id: str,
    body: TerritoryUpdate,
    tenant: TenantId,
    uow: Uow,
    cache: Cache,
    response: Response,
    version: ExpectedVersion,
) -> TerritoryRead:
    territory = await rename_territory(
        uow,
        tenant,
        territory_id,
        name=body.name,
        code=body.code,
        colour=UNCHANGED if body.colour is None else body.colour,
        # Absent keeps the parent; null moves the territory to the top level.
        parent_id=body.parent_id if "parent_id" in body.model_fields_set else UNCHANGED,
        expected_version=version,
        cache=cache,
    )
    return _read(territory, response)


@router.delete("/{territory_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete(territory_id: str, tenant: TenantId, uow: Uow, version: ExpectedVersion) -> Response:
    await delete_territory(uow, tenant, territory_id, expected_version=version)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
