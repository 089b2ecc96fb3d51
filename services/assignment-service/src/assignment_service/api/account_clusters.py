"""Accounts as map clusters: counted per grid cell by the database, so that a map shows 50,000 accounts (or
millions) at once without downloading them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from territory_shared.api.problems import InvalidInput
from territory_shared.api.tenancy import TenantId

from assignment_service.api.deps import Uow
from assignment_service.db.account_clusters import account_clusters

router = APIRouter(tags=["accounts"])


class AccountCluster(BaseModel):
    lon: float = Field(description="Mean longitude of the cell's accounts")
    lat: float = Field(description="Mean latitude of the cell's accounts")
    count: int
    potential: float = Field(description="Summed potential of the cell's accounts")
    external_id: str | None = Field(description="The account's external id when the cell holds one account")
    name: str | None = Field(description="The account's name when the cell holds one account")


class AccountClusters(BaseModel):
    cell: float = Field(description="The grid's cell size, degrees")
    accounts: int = Field(description="Accounts counted (live accounts with a location in the box)")
    clusters: list[AccountCluster]


def _bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if text is None:
        return None
    try:
        west, south, east, north = (float(v) for v in text.split(","))
    except ValueError:
        raise InvalidInput("bbox must be four numbers: west,south,east,north", field="bbox") from None
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise InvalidInput("bbox must have west <= east within ±180 and south <= north within ±90", field="bbox")
    return west, south, east, north


@router.get(
    "/v1/account-clusters",
    response_model=AccountClusters,
    summary="Accounts counted per grid cell, for a map",
    description=(
        "Live accounts with a location, grouped in square cells of `cell` degrees (0.0001 to 45): per occupied "
        "cell, the accounts' mean position, count and summed potential, and for a cell of one account its external "
        "id and name. `bbox` (west,south,east,north in degrees) keeps the accounts inside it."
    ),
)
async def list_account_clusters(
    tenant: TenantId,
    uow: Uow,
    cell: Annotated[float, Query(ge=0.0001, le=45, description="Cell size, degrees")],
    bbox: Annotated[str | None, Query(max_length=200, description="west,south,east,north")] = None,
) -> AccountClusters:
    box = _bbox(bbox)
    async with uow:
        rows = await account_clusters(uow.session, tenant, cell, box)
    clusters = [
        AccountCluster(
            lon=r.lon,
            lat=r.lat,
            count=r.accounts,
            potential=float(r.potential),
            external_id=r.external_id if r.accounts == 1 else None,
            name=r.name if r.accounts == 1 else None,
        )
        for r in rows
    ]
    return AccountClusters(cell=cell, accounts=sum(c.count for c in clusters), clusters=clusters)
