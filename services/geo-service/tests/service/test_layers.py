"""Importing unit layers: real boundaries in every format, adjacency, and every validation rule."""

from __future__ import annotations

import json

import pytest

from tests.support.auth import tenant_of
from tests.support.databases import fetch_all

from .boundaries import (
    NASH,
    WAKE,
    WAKE_NEIGHBOURS,
    feature_collection,
    many_vertices_ring,
    nc_shapefile_zip,
    square,
    us_counties_geojson,
)
from .conftest import import_file

pytestmark = pytest.mark.postgis


def test_north_carolina_counties_import_from_a_shapefile_with_their_known_neighbours(client, tenant, tmp_path):
    job = import_file(
        client, tenant, nc_shapefile_zip(tmp_path), name="NC counties", id_column="FIPS", attributes="BIR74,SID74"
    )
    assert job["status"] == "succeeded", job
    assert {"reading", "validating"} & set(job["seen_stages"]) or job["percent"] == 100
    layer_id = job["result"]["layer_id"]
    layer = client.get(f"/v1/layers/{layer_id}", headers=tenant).json()
    assert layer["unit_count"] == 100 and layer["kind"] == "polygon" and layer["attributes"] == ["BIR74", "SID74"]
    edges = client.get(f"/v1/layers/{layer_id}/adjacency", headers=tenant).json()["edges"]
    neighbours = {b for a, b in edges if a == WAKE} | {a for a, b in edges if b == WAKE}
    assert neighbours == WAKE_NEIGHBOURS
    units = client.get(f"/v1/layers/{layer_id}/units?limit=200", headers=tenant).json()["items"]
    wake = next(u for u in units if u["unit_id"] == WAKE)
    assert wake["attributes"]["BIR74"] == 14484.0
    assert 2_000 < wake["area_km2"] < 2_300  # 2,162 km2 of land and water, in an equal-area projection


def test_queen_contiguity_also_links_units_that_touch_at_a_corner(client, tenant, tmp_path):
    job = import_file(client, tenant, nc_shapefile_zip(tmp_path), name="NC queen", id_column="FIPS", contiguity="queen")
    edges = client.get(f"/v1/layers/{job['result']['layer_id']}/adjacency", headers=tenant).json()["edges"]
    neighbours = {b for a, b in edges if a == WAKE} | {a for a, b in edges if b == WAKE}
    assert neighbours == WAKE_NEIGHBOURS | {NASH}


def test_us_counties_import_from_geojson_with_islands_linked(client, tenant, tmp_path):
    job = import_file(
        client,
        tenant,
        us_counties_geojson(tmp_path),
        name="US counties",
        id_column="fips",
        attributes="population,potential",
    )
    assert job["status"] == "succeeded", job
    result = job["result"]
    assert result["unit_count"] == 3142
    assert result["island_links"], "Hawaii and Alaska are islands: links must join them"
    # Every unit reachable from every other one through the stored adjacency.
    edges = client.get(f"/v1/layers/{result['layer_id']}/adjacency", headers=tenant).json()["edges"]
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set()).add(a)
    seen, todo = {"37183"}, ["37183"]
    while todo:
        for n in graph.get(todo.pop(), ()):
            if n not in seen:
                seen.add(n)
                todo.append(n)
    assert len(seen) == 3142


def test_a_point_layer_imports_from_csv_with_lon_lat_columns(client, tenant):
    csv = b"zip,lon,lat,pop\n27601,-78.63,35.77,8000\n27513,-78.80,35.80,45000\n"
    job = import_file(
        client,
        tenant,
        content=csv,
        filename="zips.csv",
        name="ZIP points",
        id_column="zip",
        attributes="pop",
        lon_column="lon",
        lat_column="lat",
    )
    assert job["status"] == "succeeded", job
    assert job["result"]["kind"] == "point" and job["result"]["unit_count"] == 2


BAD_FEATURES = [
    ("unclosed", {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}, 1, "not closed"),
    ("bowtie", {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}, 1, "Self-intersection"),
    ("line", {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}, 1, "LineString where a Polygon"),
    ("projected", {"type": "Polygon", "coordinates": square(500000, 4000000, 1000)}, 1, "outside lon/lat"),
    ("nogeom", None, 1, "no geometry"),
    ("nopop", {"type": "Polygon", "coordinates": square(5, 5)}, None, "attribute 'pop' is missing"),
    ("textpop", {"type": "Polygon", "coordinates": square(6, 6)}, "many", "not a number"),
    ("huge", {"type": "Polygon", "coordinates": many_vertices_ring(600)}, 1, "more than the limit"),
]


def _features(extra: list[dict] | None = None) -> list[dict]:
    feats = [
        {"type": "Feature", "properties": {"id": fid, "pop": pop}, "geometry": geom}
        for fid, geom, pop, _ in BAD_FEATURES
    ]
    feats.append(
        {
            "type": "Feature",
            "properties": {"id": "ok", "pop": 1},
            "geometry": {"type": "Polygon", "coordinates": square(2, 2)},
        }
    )
    feats.append(
        {
            "type": "Feature",
            "properties": {"id": "ok", "pop": 2},
            "geometry": {"type": "Polygon", "coordinates": square(3, 3)},
        }
    )
    return feats + (extra or [])


def test_every_bad_feature_is_listed_with_its_reason_and_nothing_is_stored(client, tenant):
    before = client.get("/v1/layers", headers=tenant).json()
    job = import_file(
        client,
        tenant,
        content=feature_collection(_features()),
        filename="bad.geojson",
        name="bad",
        id_column="id",
        attributes="pop",
        max_vertices="500",
    )
    assert job["status"] == "failed"
    problems = job["error"]["problems"]
    for fid, _, _, reason in BAD_FEATURES:
        assert any(p["feature_id"] == fid and reason in p["reason"] for p in problems), (fid, problems)
    assert any(p["feature_id"] == "ok" and "duplicate id" in p["reason"] for p in problems)
    assert job["error"]["problem_count"] == len(problems)
    assert client.get("/v1/layers", headers=tenant).json() == before
    database = client.app.state.runtime.settings.database_url
    assert fetch_all(database, "SELECT count(*) AS n FROM layers WHERE tenant_id = :t", t=tenant_of(tenant)) == [
        {"n": 0}
    ]


def test_repair_closes_rings_and_fixes_self_intersections_and_reports_each(client, tenant):
    feats = [
        {
            "type": "Feature",
            "properties": {"id": "unclosed", "pop": 1},
            "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]},
        },
        {
            "type": "Feature",
            "properties": {"id": "bowtie", "pop": 1},
            "geometry": {"type": "Polygon", "coordinates": [[[2, 0], [3, 1], [3, 0], [2, 1], [2, 0]]]},
        },
        {
            "type": "Feature",
            "properties": {"id": "fine", "pop": 1},
            "geometry": {"type": "Polygon", "coordinates": square(5, 5)},
        },
    ]
    job = import_file(
        client,
        tenant,
        content=feature_collection(feats),
        filename="fixable.geojson",
        name="fixable",
        id_column="id",
        attributes="pop",
        repair="true",
    )
    assert job["status"] == "succeeded", job
    repaired = {r["feature_id"]: r["reason"] for r in job["result"]["repairs"]}
    assert set(repaired) == {"unclosed", "bowtie"}
    assert "closed" in repaired["unclosed"] and "make_valid" in repaired["bowtie"]


def test_a_file_without_the_named_columns_is_refused_before_any_job(client, tenant, tmp_path):
    r = client.post(
        "/v1/layers",
        headers=tenant,
        files={"file": ("nc.zip", nc_shapefile_zip(tmp_path).read_bytes())},
        data={"name": "x", "id_column": "GEOID", "attributes": "BIR74,NOPE"},
    )
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert [e["reason"] for e in r.json()["errors"]] == [
        "no column 'GEOID' in the file",
        "no column 'NOPE' in the file",
    ]


def test_an_unknown_format_is_a_clear_error(client, tenant):
    r = client.post(
        "/v1/layers", headers=tenant, files={"file": ("units.kml", b"<kml/>")}, data={"name": "x", "id_column": "id"}
    )
    assert r.status_code == 422 and r.json()["field"] == "file"


def test_units_are_served_as_geojson_by_bounding_box(client, tenant, tmp_path):
    job = import_file(client, tenant, nc_shapefile_zip(tmp_path), name="NC", id_column="FIPS", attributes="BIR74")
    layer_id = job["result"]["layer_id"]
    r = client.get(f"/v1/layers/{layer_id}/units.geojson?bbox=-78.8,35.7,-78.5,35.9&zoom=8", headers=tenant)
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    body = json.loads(r.content)
    ids = {f["id"] for f in body["features"]}
    assert WAKE in ids and "37009" not in ids  # Ashe is in the mountains, far from Raleigh
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in body["features"])
