from __future__ import annotations

import csv
import io
import json
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel
from territory_shared.api.limits import UPLOAD_BODY
from territory_shared.api.problems import BadRequest, MalformedRequest
from territory_shared.api.tenancy import TenantId

from geo_service.api.deps import Cache, Uow
from geo_service.use_cases.locate import locate_points

router = APIRouter(prefix="/v1/locate", tags=["location lookup"])

MAX_POINTS = 1_000_000


class LocateResult(BaseModel):
    id: str | None = None
    unit_id: str | None
    territory_id: str | None
    territory_code: str | None


class LocateRead(BaseModel):
    alignment_id: str
    alignment_version: int
    located: int
    outside: int
    results: list[LocateResult]


@router.get("", response_model=LocateResult, summary="One point -> unit -> territory")
async def locate_one(
    tenant: TenantId,
    uow: Uow,
    cache: Cache,
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
    sales_force: str | None = None,
    alignment_id: str | None = None,
) -> LocateResult:
    found = await locate_points(
        uow, cache, tenant, np.array([lon]), np.array([lat]), sales_force=sales_force, alignment_id=alignment_id
    )
    return LocateResult(
        unit_id=found.unit_ids[0], territory_id=found.territory_ids[0], territory_code=found.territory_codes[0]
    )


@router.post(
    "",
    response_model=LocateRead,
    openapi_extra=UPLOAD_BODY,
    summary="Many points -> unit -> territory (JSON or CSV, up to 1,000,000 points)",
    description=(
        'JSON: {"points": [{"id": "a1", "lon": -78.6, "lat": 35.8}, ...]} (or [lon, lat] pairs). '
        "CSV (Content-Type text/csv): a header with id,lon,lat; the answer is CSV "
        "id,unit_id,territory_id,territory_code. Points outside every unit get nulls."
    ),
)
async def locate_many(
    request: Request,
    tenant: TenantId,
    uow: Uow,
    cache: Cache,
    sales_force: str | None = None,
    alignment_id: str | None = None,
) -> Response:
    body = await request.body()
    as_csv = request.headers.get("content-type", "").startswith("text/csv")
    ids, lon, lat = _parse_csv(body) if as_csv else _parse_json(body)
    found = await locate_points(uow, cache, tenant, lon, lat, sales_force=sales_force, alignment_id=alignment_id)
    if as_csv:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["id", "unit_id", "territory_id", "territory_code"])
        writer.writerows(zip(ids, found.unit_ids, found.territory_ids, found.territory_codes, strict=True))
        return Response(out.getvalue(), media_type="text/csv")
    located = sum(u is not None for u in found.unit_ids)
    results = [
        {"id": i, "unit_id": u, "territory_id": t, "territory_code": c}
        for i, u, t, c in zip(ids, found.unit_ids, found.territory_ids, found.territory_codes, strict=True)
    ]
    payload = {
        "alignment_id": found.alignment.id,
        "alignment_version": found.alignment.version,
        "located": located,
        "outside": len(results) - located,
        "results": results,
    }
    return Response(json.dumps(payload), media_type="application/json")


def _parse_json(body: bytes) -> tuple[list[str | None], np.ndarray, np.ndarray]:
    try:
        parsed = json.loads(body)
    except ValueError as exc:
        raise MalformedRequest(f"the body is not valid JSON: {exc}", field="body") from None
    try:
        points = parsed["points"]
    except (KeyError, TypeError):
        raise BadRequest('the body must be JSON {"points": [...]}', field="points") from None
    if not isinstance(points, list) or not points:
        raise BadRequest("points must be a non-empty list", field="points")
    _check_size(len(points))
    try:
        if isinstance(points[0], dict):
            ids = [None if p.get("id") is None else str(p["id"]) for p in points]
            coords = np.array([(p["lon"], p["lat"]) for p in points], dtype=float)
        else:
            ids = [None] * len(points)
            coords = np.array(points, dtype=float).reshape(len(points), 2)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise BadRequest("each point must be {id, lon, lat} or [lon, lat] with numbers", field="points") from None
    return ids, coords[:, 0], coords[:, 1]


def _parse_csv(body: bytes) -> tuple[list[str | None], np.ndarray, np.ndarray]:
    reader = csv.DictReader(io.StringIO(body.decode("utf-8-sig", errors="replace")))
    if not reader.fieldnames or not {"lon", "lat"} <= set(reader.fieldnames):
        raise BadRequest("the CSV needs a header with lon and lat (and optionally id)", field="body")
    rows = list(reader)
    _check_size(len(rows))
    try:
        lon = np.array([float(r["lon"]) for r in rows])
        lat = np.array([float(r["lat"]) for r in rows])
    except (TypeError, ValueError):
        raise BadRequest("lon and lat must be numbers on every row", field="body") from None
    return [r.get("id") for r in rows], lon, lat


def _check_size(n: int) -> None:
    if n > MAX_POINTS:
        raise BadRequest(f"{n:,} points; at most {MAX_POINTS:,} per request", field="points")
