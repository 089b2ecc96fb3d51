from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from territory_shared.api.etags import etag_of, parse_if_match
from territory_shared.api.problems import NotFound
from territory_shared.api.tenancy import TenantId

from geo_service.api.schemas import TerritoryCreate, TerritoryPage, TerritoryRead, TerritoryUpdate
from geo_service.db.unit_of_work import UnitOfWork
from geo_service.domain.territory import Territory
from geo_service.use_cases.create_territory import create_territory
from geo_service.use_cases.delete_territory import delete_territory
from geo_service.use_cases.rename_territory import rename_territory

router = APIRouter(prefix="/v1/territories", tags=["territories"])


def unit_of_work(request: Request) -> UnitOfWork:
    runtime = request.app.state.runtime
    return UnitOfWork(runtime.sessions, runtime.outbox_written)


Uow = Annotated[UnitOfWork, Depends(unit_of_work)]
IfMatch = Annotated[
    str | None, Header(description='The ETag you read (e.g. "3"); a stale one gets 412 and changes nothing')
]


def _read(t: Territory, response: Response) -> TerritoryRead:
    response.headers["ETag"] = etag_of(t.version)
    return TerritoryRead(id=t.id, code=t.code, name=t.name, version=t.version)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TerritoryRead)
async def create(
    request: Request, body: TerritoryCreate, tenant: TenantId, uow: Uow, response: Response
) -> TerritoryRead:
    territory = await create_territory(uow, tenant, body.code, body.name)
    response.headers["Location"] = str(request.url_for("get_territory", territory_id=territory.id))
    return _read(territory, response)


@router.get("", response_model=TerritoryPage)
async def list_territories(
    request: Request,
    tenant: TenantId,
    uow: Uow,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> TerritoryPage:
    async with uow:
        items = await uow.territories.list(tenant, limit + 1, offset)
    next_url = str(request.url.include_query_params(offset=offset + limit)) if len(items) > limit else None
    return TerritoryPage(
        items=[TerritoryRead(id=t.id, code=t.code, name=t.name, version=t.version) for t in items[:limit]],
        limit=limit,
        offset=offset,
        next=next_url,
    )


@router.get("/{territory_id}", response_model=TerritoryRead, name="get_territory")
async def get(territory_id: str, tenant: TenantId, uow: Uow, response: Response) -> TerritoryRead:
    async with uow:
        territory = await uow.territories.get(tenant, territory_id)
    if territory is None:
        raise NotFound(f"Territory {territory_id} does not exist.")
    return _read(territory, response)


@router.patch("/{territory_id}", response_model=TerritoryRead)
async def update(
    territory_id: str,
    body: TerritoryUpdate,
    tenant: TenantId,
    uow: Uow,
    response: Response,
    if_match: IfMatch = None,
) -> TerritoryRead:
    territory = await rename_territory(
        uow, tenant, territory_id, name=body.name, code=body.code, expected_version=parse_if_match(if_match)
    )
    return _read(territory, response)


@router.delete("/{territory_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete(territory_id: str, tenant: TenantId, uow: Uow, if_match: IfMatch = None) -> Response:
    await delete_territory(uow, tenant, territory_id, expected_version=parse_if_match(if_match))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
