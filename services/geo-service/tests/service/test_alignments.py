"""Alignments on real counties: hierarchy, moves with shapes kept current, versions, copy, publish, lookup, export."""

from __future__ import annotations

import json

import pytest
import shapely

from tests.support.auth import auth_headers
from tests.support.databases import fetch_all

from .boundaries import RALEIGH, WAKE, nc_shapefile_zip
from .conftest import import_file

pytestmark = pytest.mark.postgis


@pytest.fixture(scope="module")
def nc_layer(client, tmp_path_factory) -> tuple[dict[str, str], str]:
    tenant = auth_headers("nc-planner")
    job = import_file(
        client, tenant, nc_shapefile_zip(tmp_path_factory.mktemp("nc")), name="NC", id_column="FIPS", attributes="BIR74"
    )
    assert job["status"] == "succeeded", job
    return tenant, job["result"]["layer_id"]


def create_alignment(client, tenant, layer_id, name="FY27", sales_force="field"):
    r = client.post(
        "/v1/alignments", json={"name": name, "sales_force": sales_force, "layer_id": layer_id}, headers=tenant
    )
    assert r.status_code == 201, r.text
    return r.json()


def territory(client, tenant, alignment_id, code, parent_id=None):
    body = {"code": code, "name": code, "alignment_id": alignment_id}
    if parent_id:
        body["parent_id"] = parent_id
    r = client.post("/v1/territories", json=body, headers=tenant)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def move(client, tenant, alignment_id, unit_ids, territory_id, version):
    return client.post(
        f"/v1/alignments/{alignment_id}/moves",
        json={"unit_ids": unit_ids, "territory_id": territory_id},
        headers={**tenant, "If-Match": f'"{version}"'},
    )


def units_of(client, tenant, alignment_id) -> dict[str, str | None]:
    return {
        u["unit_id"]: u["territory_id"]
        for u in client.get(f"/v1/alignments/{alignment_id}/units", headers=tenant).json()
    }


def outbox_types(client, subject) -> list[str]:
    rows = fetch_all(
        client.app.state.runtime.settings.database_url,
        "SELECT event_type FROM outbox WHERE key = :k ORDER BY seq",
        k=subject,
    )
    return [r["event_type"] for r in rows]


@pytest.fixture
def east_west(client, nc_layer):
    """A draft with a region and two leaf territories: east holds Wake and its neighbours, west the mountains."""
    tenant, layer_id = nc_layer
    a = create_alignment(client, tenant, layer_id)
    region = territory(client, tenant, a["id"], f"R-{a['id'][:4]}")
    east = territory(client, tenant, a["id"], "EAST", parent_id=region)
    west = territory(client, tenant, a["id"], "WEST", parent_id=region)
    r = move(client, tenant, a["id"], [WAKE, "37063", "37101"], east, a["version"])
    assert r.status_code == 200, r.text
    r = move(client, tenant, a["id"], ["37009", "37005"], west, r.json()["alignment"]["version"])
    assert r.status_code == 200, r.text
    return {
        "alignment": a["id"],
        "version": r.json()["alignment"]["version"],
        "region": region,
        "east": east,
        "west": west,
        "tenant": tenant,
        "layer": layer_id,
    }


def test_a_new_alignment_starts_as_a_draft_with_every_unit_white_space(client, nc_layer):
    tenant, layer_id = nc_layer
    a = create_alignment(client, tenant, layer_id)
    assert a["state"] == "draft" and a["version"] == 1
    units = units_of(client, tenant, a["id"])
    assert len(units) == 100 and set(units.values()) == {None}
    assert outbox_types(client, a["id"]) == ["geo.alignment.created.v1"]


def test_moving_units_keeps_the_dissolved_shapes_of_territories_and_their_parent(client, east_west):
    s = east_west
    units = units_of(client, s["tenant"], s["alignment"])
    assert units[WAKE] == s["east"] and units["37009"] == s["west"]
    fc = json.loads(client.get(f"/v1/alignments/{s['alignment']}/territories.geojson", headers=s["tenant"]).content)
    shapes = {f["properties"]["code"]: f for f in fc["features"]}
    east = shapely.geometry.shape(shapes["EAST"]["geometry"])
    region = shapely.geometry.shape(next(f for f in fc["features"] if f["id"] == s["region"])["geometry"])
    assert shapes["EAST"]["properties"]["unit_count"] == 3 and east.contains(shapely.Point(RALEIGH))
    assert region.contains(east.representative_point())
    assert next(f for f in fc["features"] if f["id"] == s["region"])["properties"]["unit_count"] == 5
    assert outbox_types(client, s["alignment"]).count("geo.alignment.edited.v1") == 2


def test_a_stale_edit_gets_412_and_changes_nothing(client, east_west):
    s = east_west
    r = move(client, s["tenant"], s["alignment"], [WAKE], s["west"], s["version"] - 1)
    assert r.status_code == 412 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["current_version"] == s["version"]
    assert units_of(client, s["tenant"], s["alignment"])[WAKE] == s["east"]


def test_locked_units_cannot_move(client, east_west):
    s = east_west
    r = client.post(
        f"/v1/alignments/{s['alignment']}/locks",
        json={"unit_ids": [WAKE]},
        headers={**s["tenant"], "If-Match": f'"{s["version"]}"'},
    )
    assert r.status_code == 200
    r = move(client, s["tenant"], s["alignment"], [WAKE, "37037"], s["west"], r.json()["version"])
    assert r.status_code == 409 and r.json()["unit_ids"] == [WAKE]
    units = units_of(client, s["tenant"], s["alignment"])
    assert units[WAKE] == s["east"] and units["37037"] is None


def test_units_cannot_move_into_a_territory_with_children_or_of_another_alignment(client, east_west):
    s = east_west
    r = move(client, s["tenant"], s["alignment"], ["37037"], s["region"], s["version"])
    assert r.status_code == 409
    r = move(client, s["tenant"], s["alignment"], ["NOT-A-UNIT"], s["east"], s["version"])
    assert r.status_code == 404 and r.json()["unit_ids"] == ["NOT-A-UNIT"]


def test_a_copy_has_the_same_territories_and_units_and_edits_apart(client, east_west):
    s = east_west
    r = client.post(
        "/v1/alignments",
        json={"name": "what-if", "sales_force": "field", "copy_from": s["alignment"]},
        headers=s["tenant"],
    )
    assert r.status_code == 201, r.text
    copy = r.json()
    original, copied = units_of(client, s["tenant"], s["alignment"]), units_of(client, s["tenant"], copy["id"])

    def codes(aid: str) -> dict[str, str]:
        items = client.get(f"/v1/territories?alignment_id={aid}", headers=s["tenant"]).json()["items"]
        return {t["id"]: t["code"] for t in items}

    oc, cc = codes(s["alignment"]), codes(copy["id"])
    assert {u: oc.get(t) for u, t in original.items()} == {u: cc.get(t) for u, t in copied.items()}
    assert set(oc.values()) == set(cc.values()) and not set(oc) & set(cc)
    fc = json.loads(client.get(f"/v1/alignments/{copy['id']}/territories.geojson", headers=s["tenant"]).content)
    assert {f["properties"]["code"]: f["properties"]["unit_count"] for f in fc["features"]}["EAST"] == 3


def test_publishing_makes_exactly_one_active_alignment_and_emits_the_changed_units(client, east_west):
    s = east_west
    r = client.post(
        f"/v1/alignments/{s['alignment']}/publish", headers={**s["tenant"], "If-Match": f'"{s["version"]}"'}
    )
    assert r.status_code == 200 and r.json()["state"] == "active"
    payloads = fetch_all(
        client.app.state.runtime.settings.database_url,
        "SELECT payload FROM outbox WHERE key = :k AND event_type = 'geo.alignment.published.v1'",
        k=s["alignment"],
    )
    data = json.loads(bytes(payloads[0]["payload"]))["data"]
    assert {c["unit_id"] for c in data["changes"]} == {WAKE, "37063", "37101", "37009", "37005"}

    second = client.post(
        "/v1/alignments",
        json={"name": "next", "sales_force": "field", "copy_from": s["alignment"]},
        headers=s["tenant"],
    ).json()
    east2 = next(
        t["id"]
        for t in client.get(f"/v1/territories?alignment_id={second['id']}", headers=s["tenant"]).json()["items"]
        if t["code"] == "EAST"
    )
    moved = move(client, s["tenant"], second["id"], ["37037"], east2, second["version"]).json()
    r = client.post(
        f"/v1/alignments/{second['id']}/publish",
        headers={**s["tenant"], "If-Match": f'"{moved["alignment"]["version"]}"'},
    )
    assert r.status_code == 200
    active = client.get("/v1/alignments?sales_force=field&state=active", headers=s["tenant"]).json()
    assert [a["id"] for a in active] == [second["id"]]
    assert client.get(f"/v1/alignments/{s['alignment']}", headers=s["tenant"]).json()["state"] == "archived"
    payloads = fetch_all(
        client.app.state.runtime.settings.database_url,
        "SELECT payload FROM outbox WHERE key = :k AND event_type = 'geo.alignment.published.v1'",
        k=second["id"],
    )
    data = json.loads(bytes(payloads[0]["payload"]))["data"]
    assert data["previous_alignment_id"] == s["alignment"]
    assert data["changes"] == [{"unit_id": "37037", "from_territory_code": None, "to_territory_code": "EAST"}]
    # An active alignment is not edited or deleted in place.
    assert move(client, s["tenant"], second["id"], ["37039"], east2, r.json()["version"]).status_code == 409
    assert client.delete(f"/v1/alignments/{second['id']}", headers=s["tenant"]).status_code == 409


def test_locate_points_to_unit_and_territory_of_the_active_alignment(client, east_west):
    s = east_west
    client.post(f"/v1/alignments/{s['alignment']}/publish", headers=s["tenant"])
    one = client.get(f"/v1/locate?lon={RALEIGH[0]}&lat={RALEIGH[1]}&sales_force=field", headers=s["tenant"]).json()
    assert one["unit_id"] == WAKE and one["territory_code"] == "EAST"
    body = {
        "points": [
            {"id": "raleigh", "lon": RALEIGH[0], "lat": RALEIGH[1]},
            {"id": "atlantic", "lon": -70.0, "lat": 30.0},
            {"id": "charlotte", "lon": -80.84, "lat": 35.23},
        ]
    }
    many = client.post(f"/v1/locate?alignment_id={s['alignment']}", json=body, headers=s["tenant"]).json()
    results = {r["id"]: r for r in many["results"]}
    assert results["raleigh"]["territory_code"] == "EAST"
    assert results["atlantic"]["unit_id"] is None and many["outside"] == 1
    assert results["charlotte"]["unit_id"] == "37119" and results["charlotte"]["territory_code"] is None
    csv_answer = client.post(
        f"/v1/locate?alignment_id={s['alignment']}",
        content=b"id,lon,lat\nr,-78.6382,35.7796\n",
        headers={**s["tenant"], "content-type": "text/csv"},
    ).text
    assert csv_answer.splitlines()[1].startswith(f"r,{WAKE},{s['east']},EAST")


def test_a_point_on_a_shared_border_resolves_to_the_same_unit_every_time(client, east_west):
    s = east_west
    geo = json.loads(client.get(f"/v1/layers/{s['layer']}/units.geojson?limit=200", headers=s["tenant"]).content)
    shapes = {f["id"]: shapely.geometry.shape(f["geometry"]) for f in geo["features"]}
    # A vertex both Wake and Durham have: exactly on both boundaries.
    shared = set(map(tuple, shapely.get_coordinates(shapes[WAKE]))) & set(
        map(tuple, shapely.get_coordinates(shapes["37063"]))
    )
    lon, lat = (float(v) for v in sorted(shared)[len(shared) // 2])
    assert shapes[WAKE].intersects(shapely.Point(lon, lat)) and shapes["37063"].intersects(shapely.Point(lon, lat))
    answers = {
        client.get(f"/v1/locate?lon={lon!r}&lat={lat!r}&alignment_id={s['alignment']}", headers=s["tenant"]).json()[
            "unit_id"
        ]
        for _ in range(3)
    }
    assert answers == {"37063"}  # the smaller unit id wins a tie


def test_bad_points_are_refused_with_their_positions(client, east_west):
    s = east_west
    r = client.post(
        f"/v1/locate?alignment_id={s['alignment']}", json={"points": [[-78, 35], [200, 95]]}, headers=s["tenant"]
    )
    assert r.status_code == 422 and r.json()["indexes"] == [1]
    r = client.post(f"/v1/locate?alignment_id={s['alignment']}", json={"points": [["x", 1]]}, headers=s["tenant"])
    assert r.status_code == 422 and r.json()["field"] == "points"
    r = client.get("/v1/locate?lon=-78&lat=35&sales_force=nobody", headers=s["tenant"])
    assert r.status_code == 404


def test_a_locate_body_that_is_not_json_is_malformed_and_json_without_points_is_invalid(client, east_west):
    s = east_west
    path, json_type = f"/v1/locate?alignment_id={s['alignment']}", {"content-type": "application/json"}
    r = client.post(path, content=b'{"points": [[-78, 35]', headers={**s["tenant"], **json_type})
    assert r.status_code == 400 and r.json()["field"] == "body"
    r = client.post(path, json={"point": [[-78, 35]]}, headers=s["tenant"])
    assert r.status_code == 422 and r.json()["errors"] == [{"field": "points", "reason": r.json()["detail"]}]


def test_export_then_import_gives_the_same_alignment(client, east_west):
    s = east_west
    exported = client.get(f"/v1/alignments/{s['alignment']}/export.csv", headers=s["tenant"]).text
    assert exported.splitlines()[0] == "unit_id,territory_code" and len(exported.splitlines()) == 101
    fresh = create_alignment(client, s["tenant"], s["layer"], name="re-imported")
    r = client.put(
        f"/v1/alignments/{fresh['id']}/assignments.csv",
        content=exported.encode(),
        headers={**s["tenant"], "content-type": "text/csv", "If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    again = client.get(f"/v1/alignments/{fresh['id']}/export.csv", headers=s["tenant"]).text
    assert again == exported
    geo = json.loads(client.get(f"/v1/alignments/{s['alignment']}/export.geojson", headers=s["tenant"]).content)
    assert {f["properties"]["code"] for f in geo["features"]} >= {"EAST", "WEST"}


def test_an_import_with_unknown_units_changes_nothing(client, east_west):
    s = east_west
    fresh = create_alignment(client, s["tenant"], s["layer"], name="bad import")
    r = client.put(
        f"/v1/alignments/{fresh['id']}/assignments.csv",
        content=b"unit_id,territory_code\n37183,A\nXX,B\n",
        headers={**s["tenant"], "content-type": "text/csv"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["unit_id"] == "XX"
    assert set(units_of(client, s["tenant"], fresh["id"]).values()) == {None}
    assert client.get(f"/v1/territories?alignment_id={fresh['id']}", headers=s["tenant"]).json()["items"] == []


def test_deleting_a_territory_leaves_its_units_as_white_space(client, east_west):
    s = east_west
    r = client.delete(f"/v1/territories/{s['west']}", headers=s["tenant"])
    assert r.status_code == 204
    units = units_of(client, s["tenant"], s["alignment"])
    assert units["37009"] is None and units["37005"] is None and len(units) == 100


def test_a_draft_can_be_deleted_with_its_territories(client, east_west):
    s = east_west
    assert client.delete(f"/v1/alignments/{s['alignment']}", headers=s["tenant"]).status_code == 204
    assert client.get(f"/v1/alignments/{s['alignment']}", headers=s["tenant"]).status_code == 404
    assert client.get(f"/v1/territories/{s['east']}", headers=s["tenant"]).status_code == 404
