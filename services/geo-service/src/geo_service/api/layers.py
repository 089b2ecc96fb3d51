from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

import shapely
from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from territory_shared.api.limits import MAX_OFFSET, UPLOAD_BODY
from territory_shared.api.problems import BadRequest, NotFound
from territory_shared.api.tenancy import TenantId
from territory_shared.jobs import Progress

from geo_service.api.deps import Cache, Jobs, Uow
from geo_service.api.geojson import collection, feature, parse_bbox
from geo_service.api.tiles import Tiles
from geo_service.db.unit_of_work import UnitOfWork
from geo_service.domain.features import ValidationOptions
from geo_service.domain.shapes import tolerance_for_zoom
from geo_service.layer_payloads import ADJACENCY, UNIT_FACTS
from geo_service.readers import CsvGeometry, check_columns, count_features, detect_format
from geo_service.settings import GeoSettings
from geo_service.tile_cache import STORED_ZOOM
from geo_service.use_cases.delete_layer import delete_layer
from geo_service.use_cases.import_layer import LayerImport, import_layer

router = APIRouter(prefix="/v1/layers", tags=["layers"])


class JobAccepted(BaseModel):
    job_id: str
    status_url: str


class LayerRead(BaseModel):
    id: str
    name: str
    kind: str
    attributes: list[str]
    unit_count: int
    bbox: list[float]
    lineage: dict[str, Any] | None = Field(
        default=None,
        description="For a layer derived by splitting units into finer units: its parent layers, the units split",
    )
    frame: list[float] | None = Field(
        default=None,
        description="Where a map of the layer opens, west, south, east, north: its main cluster of units, without "
        "remote parts (Alaska, Hawaii) that would shrink the rest to a speck (null: not known)",
    )
    tiles_zoom: int | None = Field(
        default=None,
        description="Every vector tile of the layer through this zoom is stored, ready to serve (null: not yet; "
        "they are cut on first view)",
    )


class UnitRead(BaseModel):
    unit_id: str
    name: str | None = Field(default=None, description="What the imported file calls the unit")
    attributes: dict[str, float]
    area_km2: float
    centroid: tuple[float, float]
    source: dict[str, Any] | None = Field(
        default=None, description="For a piece of a split unit: the finer unit (layer_id, unit_id) it was clipped from"
    )


class UnitPage(BaseModel):
    items: list[UnitRead]
    next: str | None


class UnitFactsRead(BaseModel):
    """Every unit of a layer in columns: the i-th entry of each list is the i-th unit (in unit-id order)."""

    layer_id: str
    unit_ids: list[str]
    names: list[str | None] = Field(description="What the imported file calls each unit (null: no name)")
    lon: list[float] = Field(description="A point inside each unit")
    lat: list[float]
    area_km2: list[float]
    attributes: dict[str, list[float]] = Field(description="Each numeric attribute's column")


class AdjacencyRead(BaseModel):
    layer_id: str
    edges: list[tuple[str, str]]
    island_links: list[dict[str, Any]]


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobAccepted,
    openapi_extra=UPLOAD_BODY,
    summary="Import a unit layer (GeoJSON, GeoPackage, zipped Shapefile, CSV) as a job",
)
async def import_layer_file(
    request: Request,
    tenant: TenantId,
    jobs: Jobs,
    tiles: Tiles,
    response: Response,
    file: Annotated[UploadFile, File(description="GeoJSON, GeoPackage, zipped Shapefile or CSV, in lon/lat")],
    name: Annotated[str, Form(min_length=1, max_length=200)],
    id_column: Annotated[str, Form(min_length=1, description="The column holding each unit's id")],
    attributes: Annotated[str, Form(description="Comma-separated numeric columns to keep, e.g. pop,potential")] = "",
    name_column: Annotated[
        str | None,
        Form(max_length=200, description="The column holding each unit's display name (e.g. 'Cook, IL'), if any"),
    ] = None,
    format: Annotated[Literal["geojson", "gpkg", "shapefile", "csv"] | None, Form()] = None,
    kind: Annotated[Literal["polygon", "point"] | None, Form()] = None,
    repair: Annotated[bool, Form(description="Repair invalid geometry with make_valid and report it")] = False,
    link_islands: Annotated[bool, Form(description="Link islands to their nearest unit in the adjacency")] = True,
    contiguity: Annotated[
        Literal["rook", "queen"], Form(description="rook: units sharing a border; queen: also a corner")
    ] = "rook",
    max_vertices: Annotated[
        int | None, Form(ge=4, description="Most vertices per geometry; the service's limit when omitted")
    ] = None,
    wkt_column: Annotated[str | None, Form()] = None,
    lon_column: Annotated[str | None, Form()] = None,
    lat_column: Annotated[str | None, Form()] = None,
) -> JobAccepted:
    settings: GeoSettings = request.app.state.runtime.settings
    if max_vertices is not None and max_vertices > settings.max_vertices:
        raise _invalid("max_vertices", f"at most {settings.max_vertices:,} vertices per geometry on this service")
    fmt = detect_format(file.filename or "", format)
    columns = [a.strip() for a in attributes.split(",") if a.strip()]
    if len(set(columns)) != len(columns) or id_column in columns:
        raise BadRequest("attributes must be distinct columns other than id_column", field="attributes")
    name_column = (name_column or "").strip() or None
    if name_column in columns:
        raise BadRequest("name_column must not be one of the numeric attributes", field="name_column")
    if fmt == "csv" and not (wkt_column or (lon_column and lat_column)):
        raise BadRequest("a CSV layer needs wkt_column, or lon_column and lat_column", field="wkt_column")
    # Stream the upload to a file of our own: GDAL reads it from disk, in chunks.
    suffix = {"geojson": ".geojson", "gpkg": ".gpkg", "shapefile": ".zip", "csv": ".csv"}[fmt]
    with tempfile.NamedTemporaryFile(suffix=suffix, delete=False) as out:
        shutil.copyfileobj(file.file, out, 1 << 20)
        path = Path(out.name)
    try:
        await asyncio.to_thread(
            check_columns, path, fmt, id_column, columns, CsvGeometry(wkt_column, lon_column, lat_column), name_column
        )
        features = await asyncio.to_thread(count_features, path, fmt)
        if features > settings.max_features:
            limit = settings.max_features
            raise _invalid("file", f"{features:,} features, more than the limit of {limit:,} per import")
    except Exception:
        await asyncio.to_thread(path.unlink, missing_ok=True)
        raise
    job = LayerImport(
        name=name,
        path=path,
        format=fmt,
        id_column=id_column,
        attributes=columns,
        csv_geometry=CsvGeometry(wkt_column, lon_column, lat_column),
        options=ValidationOptions(kind=kind, max_vertices=max_vertices or settings.max_vertices, repair=repair),
        link_islands=link_islands,
        contiguity=contiguity,
        name_column=name_column,
    )
    runtime = request.app.state.runtime

    async def work(progress: Progress) -> dict[str, Any]:
        try:
            result = await import_layer(UnitOfWork(runtime.sessions, runtime.outbox_written), tenant, job, progress)
        finally:
            await asyncio.to_thread(path.unlink, missing_ok=True)
        if tiles.drawn_from_tiles(result["kind"], result["unit_count"]):
            # Its tiles, and what the map reads of every unit, are ready before the import says it is done.
            async def zoom_done(z: int) -> None:
                await progress("tiles", 85 + z, f"map tiles cut through zoom {z} of {STORED_ZOOM}")

            await progress("tiles", 85, "cutting the map tiles")
            await tiles.prepare(result["layer_id"], zoom_done)
        return result

    job_id = await jobs.submit(tenant, "layer-import", work)
    status_url = str(request.url_for("get_job", job_id=job_id))
    response.headers["Location"] = status_url
    return JobAccepted(job_id=job_id, status_url=status_url)


@router.get("", response_model=list[LayerRead])
async def list_layers(tenant: TenantId, uow: Uow) -> list[LayerRead]:
    async with uow:
        return [_read(r) for r in await uow.layers.list(tenant)]


@router.get("/{layer_id}", response_model=LayerRead)
async def get_layer(layer_id: str, tenant: TenantId, uow: Uow) -> LayerRead:
    async with uow:
        return _read(await _layer(uow, tenant, layer_id))


@router.delete(
    "/{layer_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a layer with its units and adjacency, when no alignment (in any state) uses it",
    responses={409: {"description": "Alignments use the layer; the problem lists them in `alignments`"}},
)
async def delete(layer_id: str, tenant: TenantId, uow: Uow, cache: Cache, tiles: Tiles) -> Response:
    await delete_layer(uow, cache, tenant, layer_id)
    tiles.forget_layer(layer_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{layer_id}/units", response_model=UnitPage, summary="Units with their attributes (no geometry)")
async def list_units(
    request: Request,
    layer_id: str,
    tenant: TenantId,
    uow: Uow,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1_000,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> UnitPage:
    async with uow:
        await _layer(uow, tenant, layer_id)
        rows = await uow.layers.units_page(layer_id, limit + 1, offset, None)
    items = [
        UnitRead(
            unit_id=r.unit_id,
            name=r.name,
            attributes=r.attributes,
            area_km2=r.area_km2,
            centroid=(r.centroid_lon, r.centroid_lat),
            source=r.source,
        )
        for r in rows[:limit]
    ]
    next_url = str(request.url.include_query_params(offset=offset + limit)) if len(rows) > limit else None
    return UnitPage(items=items, next=next_url)


@router.get("/{layer_id}/units.geojson", summary="Units as GeoJSON by bounding box, simplified for a zoom level")
async def units_geojson(
    request: Request,
    layer_id: str,
    tenant: TenantId,
    uow: Uow,
    bbox: Annotated[str | None, Query(description="minLon,minLat,maxLon,maxLat")] = None,
    zoom: Annotated[float | None, Query(ge=0, le=22)] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 5_000,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Response:
    box = parse_bbox(bbox)
    async with uow:
        await _layer(uow, tenant, layer_id)
        rows = await uow.layers.units_page(layer_id, limit + 1, offset, box)
    tolerance = tolerance_for_zoom(zoom)
    geoms = shapely.from_wkb([r.wkb for r in rows[:limit]])
    if tolerance > 0:
        geoms = shapely.simplify(geoms, tolerance, preserve_topology=True)
    features = [
        feature(r.unit_id, g, {"unit_id": r.unit_id, **({"name": r.name} if r.name else {}), **r.attributes})
        for r, g in zip(rows[:limit], geoms, strict=True)
    ]
    next_url = str(request.url.include_query_params(offset=offset + limit)) if len(rows) > limit else None
    return collection(features, next=next_url)


@router.get(
    "/{layer_id}/unit-facts",
    response_model=UnitFactsRead,
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}},
    summary="Every unit's id, name, inner point, area and attributes, in columns (no geometry)",
    description="What a map needs of every unit before drawing any shape (framing, selection by area or lasso, "
    "tooltips, colouring by attribute), in one compact response; `/units` pages the same facts unit by unit.",
)
async def get_unit_facts(layer_id: str, tenant: TenantId, uow: Uow, tiles: Tiles) -> Response:
    async with uow:
        await _layer(uow, tenant, layer_id)
    return Response(await tiles.payload(layer_id, UNIT_FACTS), media_type="application/json")


@router.get(
    "/{layer_id}/adjacency",
    response_model=AdjacencyRead,
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}},
    summary="Units that share a border",
)
async def get_adjacency(layer_id: str, tenant: TenantId, uow: Uow, tiles: Tiles) -> Response:
    async with uow:
        await _layer(uow, tenant, layer_id)
    return Response(await tiles.payload(layer_id, ADJACENCY), media_type="application/json")


def _invalid(field: str, reason: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("form", field), "msg": reason, "type": "value_error"}])


async def _layer(uow: UnitOfWork, tenant: str, layer_id: str):  # type: ignore[no-untyped-def]
    layer = await uow.layers.get(tenant, layer_id)
    if layer is None:
        raise NotFound(f"Layer {layer_id} does not exist.")
    return layer


def _read(r) -> LayerRead:  # type: ignore[no-untyped-def]
    return LayerRead(
        id=r.id,
        name=r.name,
        kind=r.kind,
        attributes=r.attributes,
        unit_count=r.unit_count,
        bbox=r.bbox,
        lineage=r.lineage,
        frame=r.frame,
        tiles_zoom=r.tiles_zoom,
    )
