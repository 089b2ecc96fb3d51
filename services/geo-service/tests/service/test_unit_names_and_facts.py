"""Units' display names from the imported file, and every unit's facts in one compact response, checked against
the unit-by-unit listing (the source of truth) and the GeoJSON."""

from __future__ import annotations

import json

import pytest

from tests.support.auth import auth_headers
from tests.support.databases import fetch_all

from .boundaries import WAKE, nc_shapefile_zip
from .conftest import import_file

pytestmark = pytest.mark.postgis


def all_units(client, tenant, layer_id: str) -> list[dict]:
    return client.get(f"/v1/layers/{layer_id}/units?limit=10000", headers=tenant).json()["items"]


def test_a_layer_imported_with_a_name_column_names_its_units_everywhere(client, tenant, tmp_path):
    job = import_file(
        client, tenant, nc_shapefile_zip(tmp_path), name="NC", id_column="FIPS", attributes="BIR74", name_column="NAME"
    )
    assert job["status"] == "succeeded", job
    layer_id = job["result"]["layer_id"]
    units = {u["unit_id"]: u for u in all_units(client, tenant, layer_id)}
    assert units[WAKE]["name"] == "Wake" and units["37063"]["name"] == "Durham"
    # Where its map opens: around the state (North Carolina spans about 84.3 W to 75.5 W, 33.8 N to 36.6 N).
    west, south, east, north = client.get(f"/v1/layers/{layer_id}", headers=tenant).json()["frame"]
    assert -84.6 < west < -83.5 and 33.5 < south < 34.5 and -76.5 < east < -75.2 and 36.0 < north < 36.9
    assert all(u["name"] for u in units.values())
    wake = next(
        f
        for f in json.loads(client.get(f"/v1/layers/{layer_id}/units.geojson", headers=tenant).content)["features"]
        if f["id"] == WAKE
    )
    assert wake["properties"]["name"] == "Wake" and wake["properties"]["BIR74"] == 14484.0


def test_unit_facts_are_the_units_listing_in_columns(client, tenant, tmp_path):
    job = import_file(
        client, tenant, nc_shapefile_zip(tmp_path), name="NC", id_column="FIPS", attributes="BIR74,SID74",
        name_column="NAME",
    )  # fmt: skip
    layer_id = job["result"]["layer_id"]
    r = client.get(f"/v1/layers/{layer_id}/unit-facts", headers=tenant)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    facts = r.json()
    units = all_units(client, tenant, layer_id)
    assert facts["layer_id"] == layer_id and facts["unit_ids"] == [u["unit_id"] for u in units]
    assert facts["names"] == [u["name"] for u in units]
    assert [[lon, lat] for lon, lat in zip(facts["lon"], facts["lat"], strict=True)] == [u["centroid"] for u in units]
    assert facts["area_km2"] == [u["area_km2"] for u in units]
    assert set(facts["attributes"]) == {"BIR74", "SID74"}
    for name, column in facts["attributes"].items():
        assert column == [u["attributes"][name] for u in units], name
    # Built once and stored: served the same from memory, and from the database after the memory is cleared.
    assert client.get(f"/v1/layers/{layer_id}/unit-facts", headers=tenant).content == r.content
    database = client.app.state.runtime.settings.database_url
    stored = fetch_all(database, "SELECT name FROM layer_payloads WHERE layer_id = :l", l=layer_id)
    assert stored == [{"name": "unit-facts"}]
    client.app.state.tile_cache.forget_layer(layer_id)
    assert client.get(f"/v1/layers/{layer_id}/unit-facts", headers=tenant).content == r.content


def test_a_layer_without_names_has_null_names_and_another_tenant_sees_no_facts(client, tenant, tmp_path):
    job = import_file(client, tenant, nc_shapefile_zip(tmp_path), name="NC", id_column="FIPS")
    layer_id = job["result"]["layer_id"]
    facts = client.get(f"/v1/layers/{layer_id}/unit-facts", headers=tenant).json()
    assert len(facts["unit_ids"]) == 100 and facts["names"] == [None] * 100 and facts["attributes"] == {}
    assert all(u["name"] is None for u in all_units(client, tenant, layer_id))
    assert client.get(f"/v1/layers/{layer_id}/unit-facts", headers=auth_headers("names-other")).status_code == 404


def test_a_csv_can_name_its_units_by_their_id_and_an_empty_name_is_none(client, tenant):
    csv = b"zip,city,lon,lat,pop\n27601,Raleigh,-78.63,35.77,8000\n27513,,-78.80,35.80,45000\n"
    job = import_file(
        client, tenant, content=csv, filename="zips.csv", name="ZIP points", id_column="zip", attributes="pop",
        lon_column="lon", lat_column="lat", name_column="city",
    )  # fmt: skip
    assert job["status"] == "succeeded", job
    names = {u["unit_id"]: u["name"] for u in all_units(client, tenant, job["result"]["layer_id"])}
    assert names == {"27601": "Raleigh", "27513": None}
    job = import_file(
        client, tenant, content=csv, filename="zips.csv", name="ZIP points", id_column="zip", lon_column="lon",
        lat_column="lat", name_column="zip",
    )  # fmt: skip
    names = {u["unit_id"]: u["name"] for u in all_units(client, tenant, job["result"]["layer_id"])}
    assert names == {"27601": "27601", "27513": "27513"}


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ({"name_column": "NOPE"}, "no column 'NOPE' in the file"),
        ({"name_column": "BIR74", "attributes": "BIR74"}, "name_column must not be one of the numeric attributes"),
    ],
)
def test_a_bad_name_column_is_refused_naming_it_and_nothing_is_stored(client, tenant, tmp_path, form, reason):
    before = client.get("/v1/layers", headers=tenant).json()
    r = client.post(
        "/v1/layers",
        headers=tenant,
        files={"file": ("nc.zip", nc_shapefile_zip(tmp_path).read_bytes())},
        data={"name": "x", "id_column": "FIPS", **form},
    )
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    fields = [e["field"] for e in problem.get("errors", [])] or [problem.get("field")]
    assert fields == ["name_column"], problem
    assert reason in r.text
    assert client.get("/v1/layers", headers=tenant).json() == before
