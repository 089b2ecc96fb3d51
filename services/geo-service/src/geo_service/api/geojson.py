"""GeoJSON (RFC 7946) responses, assembled as text: far cheaper than building dicts for thousands of shapes."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import shapely
from fastapi import Response
from shapely.geometry.base import BaseGeometry

GEOJSON = "application/geo+json"


def feature(feature_id: str, geometry: BaseGeometry | None, properties: dict[str, Any]) -> str:
    geom = shapely.to_geojson(geometry) if geometry is not None and not geometry.is_empty else "null"
    return f'{{"type":"Feature","id":{json.dumps(feature_id)},"properties":{json.dumps(properties)},"geometry":{geom}}}'


def collection(features: Iterable[str], **members: Any) -> Response:
    extra = "".join(f",{json.dumps(k)}:{json.dumps(v)}" for k, v in members.items())
    body = '{"type":"FeatureCollection","features":[' + ",".join(features) + "]" + extra + "}"
    return Response(body, media_type=GEOJSON)


def parse_bbox(bbox: str | None) -> tuple[float, float, float, float] | None:
    from territory_shared.api.problems import BadRequest

    if bbox is None:
        return None
    try:
        minx, miny, maxx, maxy = (float(v) for v in bbox.split(","))
    except ValueError:
        raise BadRequest("bbox must be minLon,minLat,maxLon,maxLat", field="bbox") from None
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise BadRequest("bbox must be minLon,minLat,maxLon,maxLat within lon/lat ranges", field="bbox")
    return minx, miny, maxx, maxy
