from __future__ import annotations

import asyncio
import csv
import io
from datetime import datetime
from typing import Annotated, Any, Literal

import shapely
from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from territory_shared.api.auth import Caller
from territory_shared.api.etags import etag_of
from territory_shared.api.limits import UPLOAD_BODY
from territory_shared.api.problems import BadRequest, Forbidden
from territory_shared.api.roles import ADMIN
from territory_shared.api.tenancy import TenantId

from geo_service.api.bulk_json import json_response
from geo_service.api.deps import Cache, ExpectedVersion, Uow
from geo_service.api.geojson import collection, feature, parse_bbox
from geo_service.domain.alignment import Alignment
from geo_service.domain.shapes import tolerance_for_zoom
from geo_service.use_cases.alignments import (
    archive_alignment,
    create_alignment,
    delete_alignment,
    load_alignment,
    publish_alignment,
    publish_changes,
)
from geo_service.use_cases.edit_units import lock_units, move_units
from geo_service.use_cases.import_assignments import import_assignments
from geo_service.use_cases.split_units import split_units
from geo_service.use_cases.territories_csv import import_territories, territories_csv

router = APIRouter(prefix="/v1/alignments", tags=["alignments"])

Name = Annotated[str, Field(min_length=1, max_length=200)]


class AlignmentCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"name": "FY27 what-if", "sales_force": "field", "copy_from": "<alignment id>"}]
        },
    )

    name: Name
    sales_force: Annotated[str, Field(min_length=1, max_length=100, examples=["field"])]
    layer_id: str | None = Field(default=None, description="The unit layer; omit when copying")
    copy_from: str | None = Field(default=None, description="Copy territories and units from this alignment")


class AlignmentRead(BaseModel):
    id: str
    name: str
    sales_force: str
    layer_id: str
    state: str
    version: int
    copied_from: str | None
    created_at: datetime
    published_at: datetime | None


class UnitsMove(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit_ids: Annotated[list[str], Field(min_length=1, max_length=100_000)]
    territory_id: str | None = Field(description="The leaf territory to move them to; null makes them white space")


class MoveRead(BaseModel):
    alignment: AlignmentRead
    moved: int
    touched_territories: list[str]


class UnitsLock(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit_ids: Annotated[list[str], Field(min_length=1, max_length=100_000)]
    locked: bool = True


class UnitsSplit(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"unit_ids": ["06037"], "into_layer": "<layer id of approximate ZIP areas>"}]},
    )

    unit_ids: Annotated[list[str], Field(min_length=1, max_length=1_000, description="The units to split")]
    into_layer: str = Field(min_length=1, description="The layer of finer units to split them into")
    prefix: str | None = Field(
        default=None,
        description="The pieces' id prefix (`zip` gives `zip:90001`); derived from the finer layer's name if omitted",
    )


class SplitRead(BaseModel):
    alignment: AlignmentRead
    layer_id: str = Field(description="The derived layer the draft is on now")
    layer_name: str
    pieces: dict[str, list[str]] = Field(description="Each split unit's pieces")
    unit_count: int
    adjacency_pairs: int
    island_links: list[dict[str, Any]]


class MembershipRead(BaseModel):
    unit_id: str
    territory_id: str | None
    locked: bool


def _read(a: Alignment, response: Response | None = None) -> AlignmentRead:
    if response is not None:
        response.headers["ETag"] = etag_of(a.version)
    return AlignmentRead(
        id=a.id,
        name=a.name,
        sales_force=a.sales_force,
        layer_id=a.layer_id,
        state=a.state,
        version=a.version,
        copied_from=a.copied_from,
        created_at=a.created_at,
        published_at=a.published_at,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=AlignmentRead,
    summary="Create a draft alignment, empty or as a copy of another",
)
async def create(
    body: AlignmentCreate, tenant: TenantId, uow: Uow, request: Request, response: Response
) -> AlignmentRead:
    alignment = await create_alignment(
        uow, tenant, name=body.name, sales_force=body.sales_force, layer_id=body.layer_id, copy_from=body.copy_from
    )
    response.headers["Location"] = str(request.url_for("get_alignment", alignment_id=alignment.id))
    return _read(alignment, response)


@router.get("", response_model=list[AlignmentRead])
async def list_alignments(
    tenant: TenantId,
    uow: Uow,
    sales_force: str | None = None,
    state: Literal["draft", "active", "archived"] | None = None,
) -> list[AlignmentRead]:
    async with uow:
        return [_read(a) for a in await uow.alignments.list(tenant, sales_force, state)]


@router.get("/{alignment_id}", response_model=AlignmentRead, name="get_alignment")
async def get(alignment_id: str, tenant: TenantId, uow: Uow, response: Response) -> AlignmentRead:
    async with uow:
        return _read(await load_alignment(uow, tenant, alignment_id), response)


@router.post(
    "/{alignment_id}/publish",
    response_model=AlignmentRead,
    summary="Make this draft the only active alignment of its sales force",
    description="When the sales force has an approval policy, the draft must be approved at its current version "
    "(409 otherwise); an admin may publish anyway with override_approval=true, recorded as an overridden step.",
)
async def publish(
    alignment_id: str,
    tenant: TenantId,
    uow: Uow,
    caller: Caller,
    version: ExpectedVersion,
    response: Response,
    override_approval: Annotated[
        bool, Query(description="Publish without the approval its policy asks for (admins only)")
    ] = False,
) -> AlignmentRead:
    if override_approval and ADMIN not in caller.roles:
        raise Forbidden("override_approval=true is for admins: have the draft approved instead.")
    return _read(
        await publish_alignment(uow, tenant, alignment_id, version, override_approval=override_approval), response
    )


@router.post("/{alignment_id}/archive", response_model=AlignmentRead)
async def archive(
    alignment_id: str, tenant: TenantId, uow: Uow, version: ExpectedVersion, response: Response
) -> AlignmentRead:
    return _read(await archive_alignment(uow, tenant, alignment_id, version), response)


@router.delete("/{alignment_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a draft")
async def delete(alignment_id: str, tenant: TenantId, uow: Uow, version: ExpectedVersion) -> Response:
    await delete_alignment(uow, tenant, alignment_id, version)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{alignment_id}/moves", response_model=MoveRead, summary="Move units to a territory (the map's editing primitive)"
)
async def move(
    alignment_id: str,
    body: UnitsMove,
    tenant: TenantId,
    uow: Uow,
    cache: Cache,
    version: ExpectedVersion,
    response: Response,
) -> MoveRead:
    result = await move_units(uow, cache, tenant, alignment_id, body.unit_ids, body.territory_id, version)
    return MoveRead(
        alignment=_read(result.alignment, response), moved=result.moved, touched_territories=result.touched_territories
    )


@router.post("/{alignment_id}/locks", response_model=AlignmentRead, summary="Lock or unlock units")
async def lock(
    alignment_id: str, body: UnitsLock, tenant: TenantId, uow: Uow, version: ExpectedVersion, response: Response
) -> AlignmentRead:
    return _read(await lock_units(uow, tenant, alignment_id, body.unit_ids, body.locked, version), response)


@router.post(
    "/{alignment_id}/split",
    response_model=SplitRead,
    summary="Split units of a draft into the finer units of another layer (the draft moves onto a derived layer)",
    description=(
        "Creates a layer holding every unit of the draft's layer except `unit_ids`, plus the units of `into_layer` "
        "clipped to each of them (ids `<prefix>:<finer id>`), with its adjacency computed as an import's; moves the "
        "draft onto it with each piece in the territory of the unit it splits, and bumps the draft's version. "
        "Emits `geo.layer.imported.v1` and `geo.alignment.edited.v1` (with `layer_id`). Refused, changing nothing: "
        "not a draft (409), an unknown unit (422), a locked unit (409), an unknown `into_layer` or the draft's own "
        "layer (422), a unit no finer unit covers (422), a stale If-Match (412)."
    ),
)
async def split(
    alignment_id: str,
    body: UnitsSplit,
    tenant: TenantId,
    uow: Uow,
    cache: Cache,
    version: ExpectedVersion,
    response: Response,
) -> SplitRead:
    result = await split_units(uow, cache, tenant, alignment_id, body.unit_ids, body.into_layer, body.prefix, version)
    return SplitRead(
        alignment=_read(result.alignment, response),
        layer_id=result.layer_id,
        layer_name=result.layer_name,
        pieces=result.pieces,
        unit_count=result.unit_count,
        adjacency_pairs=result.adjacency_pairs,
        island_links=result.island_links,
    )


@router.get(
    "/{alignment_id}/units",
    response_model=list[MembershipRead],
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}},
    summary="Every unit of the alignment with its territory (null: white space) and lock",
)
async def memberships(alignment_id: str, tenant: TenantId, uow: Uow) -> Response:
    async with uow:
        alignment = await load_alignment(uow, tenant, alignment_id)
        rows = await uow.alignments.memberships(alignment.id)
    # Written directly: a map opens on this list (31,729 rows for the ZIP areas), and building one model per row
    # took a second.
    body = [{"unit_id": u, "territory_id": t, "locked": lk} for u, (t, lk) in sorted(rows.items())]
    return await json_response(body)


@router.get(
    "/{alignment_id}/publish-changes",
    summary="The units whose territory publishing this alignment would change (against the active alignment)",
)
async def get_publish_changes(alignment_id: str, tenant: TenantId, uow: Uow) -> dict[str, Any]:
    previous, changes = await publish_changes(uow, tenant, alignment_id)
    return {
        "alignment_id": alignment_id,
        "active_alignment_id": previous,
        "changes": [c.model_dump() for c in changes],
    }


@router.get("/{alignment_id}/territories.geojson", summary="Territory shapes (dissolved units) as GeoJSON")
async def territories_geojson(
    alignment_id: str,
    tenant: TenantId,
    uow: Uow,
    bbox: Annotated[str | None, Query(description="minLon,minLat,maxLon,maxLat")] = None,
    zoom: Annotated[float | None, Query(ge=0, le=22)] = None,
) -> Response:
    box = parse_bbox(bbox)
    async with uow:
        alignment = await load_alignment(uow, tenant, alignment_id)
        territories = await uow.territories.in_alignment(alignment.id)
        shapes = await uow.alignments.shapes(alignment.id)
    tolerance = tolerance_for_zoom(zoom)

    def features() -> list[str]:
        # Off the event loop: territories of ZIP-level units have hundreds of thousands of vertices to simplify.
        out = []
        for t in territories:
            shape = shapes.get(t.id)
            geom = shapely.from_wkb(shape.display_wkb) if shape is not None and shape.display_wkb else None
            if geom is not None and box is not None and not shapely.intersects(geom, shapely.box(*box)):
                continue
            if geom is not None and tolerance > 0:
                geom = shapely.simplify(geom, tolerance, preserve_topology=True)
            props = {
                "territory_id": t.id,
                "code": t.code,
                "name": t.name,
                "colour": t.colour,
                "parent_id": t.parent_id,
                "unit_count": shape.unit_count if shape else 0,
            }
            out.append(feature(t.id, geom, props))
        return out

    return collection(await asyncio.to_thread(features), alignment_id=alignment.id, version=alignment.version)


@router.get("/{alignment_id}/export.csv", summary="The alignment as unit_id,territory_code (re-importable)")
async def export_csv(alignment_id: str, tenant: TenantId, uow: Uow) -> Response:
    async with uow:
        alignment = await load_alignment(uow, tenant, alignment_id)
        codes = {t.id: t.code for t in await uow.territories.in_alignment(alignment.id)}
        rows = await uow.alignments.memberships(alignment.id)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["unit_id", "territory_code"])
    for unit_id, (territory_id, _) in sorted(rows.items()):
        writer.writerow([unit_id, codes.get(territory_id, "") if territory_id else ""])
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="alignment-{alignment.id}.csv"'},
    )


@router.get("/{alignment_id}/export.geojson", summary="The alignment's territories as GeoJSON (full resolution)")
async def export_geojson(alignment_id: str, tenant: TenantId, uow: Uow) -> Response:
    async with uow:
        alignment = await load_alignment(uow, tenant, alignment_id)
        territories = await uow.territories.in_alignment(alignment.id)
        shapes = await uow.alignments.shapes(alignment.id)
    features = [
        feature(
            t.id,
            shapely.from_wkb(shapes[t.id].wkb) if t.id in shapes and shapes[t.id].wkb else None,
            {"code": t.code, "name": t.name, "parent_id": t.parent_id, "colour": t.colour},
        )
        for t in territories
    ]
    return collection(features, alignment_id=alignment.id, name=alignment.name)


@router.put(
    "/{alignment_id}/assignments.csv",
    openapi_extra=UPLOAD_BODY,
    summary="Assign units from unit_id,territory_code CSV (the export's format) into a draft",
)
async def import_csv(
    alignment_id: str,
    request: Request,
    tenant: TenantId,
    uow: Uow,
    cache: Cache,
    version: ExpectedVersion,
    response: Response,
) -> dict[str, int]:
    text = (await request.body()).decode("utf-8-sig", errors="replace")
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not {"unit_id", "territory_code"} <= set(reader.fieldnames):
        raise BadRequest("the CSV needs a header with unit_id and territory_code", field="body")
    rows = [(r["unit_id"].strip(), (r["territory_code"] or "").strip() or None) for r in reader]
    result = await import_assignments(uow, cache, tenant, alignment_id, rows, version)
    response.headers["ETag"] = etag_of(result["version"])
    return result


@router.get(
    "/{alignment_id}/territories.csv",
    summary="The territory hierarchy as code,name,parent_code,colour CSV (re-importable)",
)
async def export_territories_csv(alignment_id: str, tenant: TenantId, uow: Uow) -> Response:
    async with uow:
        alignment = await load_alignment(uow, tenant, alignment_id)
        territories = await uow.territories.in_alignment(alignment.id)
    return Response(
        territories_csv(territories),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="territories-{alignment.id}.csv"'},
    )


@router.put(
    "/{alignment_id}/territories.csv",
    openapi_extra=UPLOAD_BODY,
    summary="Create and update a draft's territories from code,name,parent_code,colour CSV (all or nothing)",
    description=(
        "Creates the territories whose code is new; updates the name, colour and parent of those that exist. "
        "Parents are applied before children whatever the row order. An empty parent_code is the top level, an "
        "empty colour none; a file without the parent_code or colour column leaves those as they are. Any problem "
        "(a bad value, a duplicate code, an unknown parent code, a cycle, a parent that owns units) is a 422 whose "
        "`errors` name each row (the header is row 1) and column, and nothing changes. Assign units afterwards with "
        "`PUT .../assignments.csv`."
    ),
)
async def import_territories_csv(
    alignment_id: str,
    request: Request,
    tenant: TenantId,
    uow: Uow,
    cache: Cache,
    version: ExpectedVersion,
    response: Response,
) -> dict[str, int]:
    result = await import_territories(uow, cache, tenant, alignment_id, await request.body(), version)
    response.headers["ETag"] = etag_of(result["version"])
    return result
