"""The territory hierarchy of a draft: moving a territory under another parent, and the hierarchy as CSV (export,
import, and a round trip with the units that rebuilds the same alignment)."""

from __future__ import annotations

import csv
import io
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
    tenant = auth_headers("nc-hierarchy")
    job = import_file(
        client, tenant, nc_shapefile_zip(tmp_path_factory.mktemp("nc")), name="NC", id_column="FIPS", attributes="BIR74"
    )
    assert job["status"] == "succeeded", job
    return tenant, job["result"]["layer_id"]


def create_alignment(client, tenant, layer_id, name="FY27"):
    r = client.post("/v1/alignments", json={"name": name, "sales_force": "field", "layer_id": layer_id}, headers=tenant)
    assert r.status_code == 201, r.text
    return r.json()


def territory(client, tenant, alignment_id, code, parent_id=None, colour=None):
    body = {"code": code, "name": f"{code} name", "alignment_id": alignment_id}
    body |= {"parent_id": parent_id} if parent_id else {}
    body |= {"colour": colour} if colour else {}
    r = client.post("/v1/territories", json=body, headers=tenant)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def version_of(client, tenant, alignment_id) -> int:
    return client.get(f"/v1/alignments/{alignment_id}", headers=tenant).json()["version"]


def move(client, tenant, alignment_id, unit_ids, territory_id):
    r = client.post(
        f"/v1/alignments/{alignment_id}/moves",
        json={"unit_ids": unit_ids, "territory_id": territory_id},
        headers={**tenant, "If-Match": f'"{version_of(client, tenant, alignment_id)}"'},
    )
    assert r.status_code == 200, r.text


def shapes(client, tenant, alignment_id) -> dict[str, dict]:
    fc = json.loads(client.get(f"/v1/alignments/{alignment_id}/territories.geojson", headers=tenant).content)
    return {f["properties"]["code"]: f for f in fc["features"]}


def hierarchy(client, tenant, alignment_id) -> dict[str, tuple[str, str | None, str | None]]:
    """code -> (name, parent code, colour)."""
    items = client.get(f"/v1/territories?alignment_id={alignment_id}&limit=1000", headers=tenant).json()["items"]
    code_of = {t["id"]: t["code"] for t in items}
    return {t["code"]: (t["name"], code_of.get(t["parent_id"]), t["colour"]) for t in items}


def outbox(client, subject) -> list[tuple[str, dict]]:
    rows = fetch_all(
        client.app.state.runtime.settings.database_url,
        "SELECT event_type, payload FROM outbox WHERE key = :k ORDER BY seq",
        k=subject,
    )
    return [(r["event_type"], json.loads(bytes(r["payload"]))["data"]) for r in rows]


def patch(client, tenant, territory_id, body, version=None):
    headers = {**tenant, "If-Match": f'"{version}"'} if version else tenant
    return client.patch(f"/v1/territories/{territory_id}", json=body, headers=headers)


@pytest.fixture
def regions(client, nc_layer):
    """A draft: region NORTH > district D1 > leaves EAST (Wake, Durham, Johnston) and WEST (two mountain counties);
    region SOUTH with no children yet."""
    tenant, layer_id = nc_layer
    a = create_alignment(client, tenant, layer_id)
    north = territory(client, tenant, a["id"], "NORTH", colour="#112233")
    south = territory(client, tenant, a["id"], "SOUTH")
    d1 = territory(client, tenant, a["id"], "D1", parent_id=north)
    east = territory(client, tenant, a["id"], "EAST", parent_id=d1, colour="#aa0000")
    west = territory(client, tenant, a["id"], "WEST", parent_id=d1)
    move(client, tenant, a["id"], [WAKE, "37063", "37101"], east)
    move(client, tenant, a["id"], ["37009", "37005"], west)
    return {
        "tenant": tenant,
        "layer": layer_id,
        "alignment": a["id"],
        "north": north,
        "south": south,
        "d1": d1,
        "east": east,
        "west": west,
    }


# Re-parenting


def test_moving_a_territory_under_another_parent_recomputes_both_branches_and_announces_it(client, regions):
    s, tenant = regions, regions["tenant"]
    before = version_of(client, tenant, s["alignment"])

    r = patch(client, tenant, s["east"], {"parent_id": s["south"]}, version=1)

    assert r.status_code == 200, r.text
    assert r.json()["parent_id"] == s["south"] and r.json()["version"] == 2 and r.headers["etag"] == '"2"'
    assert r.json()["name"] == "EAST name" and r.json()["colour"] == "#aa0000"
    assert version_of(client, tenant, s["alignment"]) == before + 1
    after = shapes(client, tenant, s["alignment"])
    assert after["SOUTH"]["properties"]["unit_count"] == 3
    assert shapely.geometry.shape(after["SOUTH"]["geometry"]).contains(shapely.Point(RALEIGH))
    for old_ancestor in ("D1", "NORTH"):
        assert after[old_ancestor]["properties"]["unit_count"] == 2
        assert not shapely.geometry.shape(after[old_ancestor]["geometry"]).contains(shapely.Point(RALEIGH))
    assert after["SOUTH"]["properties"]["parent_id"] is None
    event_type, data = outbox(client, s["east"])[-1]
    assert event_type == "geo.territory.renamed.v1"
    assert data["parent_id"] == s["south"] and data["version"] == 2 and data["alignment_id"] == s["alignment"]


def test_a_null_parent_moves_a_territory_to_the_top_level_and_an_absent_one_keeps_it(client, regions):
    s, tenant = regions, regions["tenant"]
    r = patch(client, tenant, s["west"], {"name": "Mountains"})
    assert r.status_code == 200 and r.json()["parent_id"] == s["d1"]

    r = patch(client, tenant, s["west"], {"parent_id": None})

    assert r.status_code == 200, r.text
    assert r.json()["parent_id"] is None and r.json()["name"] == "Mountains"
    after = shapes(client, tenant, s["alignment"])
    assert after["D1"]["properties"]["unit_count"] == 3 and after["NORTH"]["properties"]["unit_count"] == 3
    assert after["WEST"]["properties"]["unit_count"] == 2
    # Emptied of its last child, a parent becomes a leaf without a shape.
    r = patch(client, tenant, s["east"], {"parent_id": None})
    assert r.status_code == 200
    after = shapes(client, tenant, s["alignment"])
    assert after["D1"]["properties"]["unit_count"] == 0 and after["D1"]["geometry"] is None


def test_a_subtree_moves_with_its_root(client, regions):
    s, tenant = regions, regions["tenant"]
    r = patch(client, tenant, s["d1"], {"parent_id": s["south"]})
    assert r.status_code == 200, r.text
    h = hierarchy(client, tenant, s["alignment"])
    assert h["D1"][1] == "SOUTH" and h["EAST"][1] == "D1" and h["WEST"][1] == "D1"
    after = shapes(client, tenant, s["alignment"])
    assert after["SOUTH"]["properties"]["unit_count"] == 5 and after["NORTH"]["properties"]["unit_count"] == 0


@pytest.mark.parametrize("target", ["itself", "child", "grandchild"])
def test_a_territory_cannot_move_under_itself_or_its_descendants(client, regions, target):
    s, tenant = regions, regions["tenant"]
    leafless = territory(client, tenant, s["alignment"], "D2", parent_id=s["d1"])
    parent = {"itself": s["north"], "child": s["d1"], "grandchild": leafless}[target]
    before = version_of(client, tenant, s["alignment"])

    r = patch(client, tenant, s["north"], {"parent_id": parent})

    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["field"] == "parent_id"
    assert client.get(f"/v1/territories/{s['north']}", headers=tenant).json()["parent_id"] is None
    assert version_of(client, tenant, s["alignment"]) == before


def test_the_parent_must_be_a_territory_of_the_same_alignment(client, regions):
    s, tenant = regions, regions["tenant"]
    other = create_alignment(client, tenant, s["layer"], name="other")
    elsewhere = territory(client, tenant, other["id"], "ELSEWHERE")
    standalone = client.post("/v1/territories", json={"code": "ALONE", "name": "alone"}, headers=tenant).json()["id"]
    for parent in (elsewhere, standalone, "00000000-0000-4000-8000-000000000000"):
        r = patch(client, tenant, s["east"], {"parent_id": parent})
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == "parent_id"
    assert client.get(f"/v1/territories/{s['east']}", headers=tenant).json()["parent_id"] == s["d1"]


def test_a_territory_that_owns_units_cannot_become_a_parent(client, regions):
    s, tenant = regions, regions["tenant"]
    r = patch(client, tenant, s["west"], {"parent_id": s["east"]})
    assert r.status_code == 409 and r.json()["field"] == "parent_id"
    assert "owns units" in r.json()["detail"]
    assert client.get(f"/v1/territories/{s['west']}", headers=tenant).json()["parent_id"] == s["d1"]


def test_only_a_draft_is_reorganised_and_a_stale_version_changes_nothing(client, regions):
    s, tenant = regions, regions["tenant"]
    r = patch(client, tenant, s["east"], {"parent_id": s["south"]}, version=7)
    assert r.status_code == 412
    published = client.post(f"/v1/alignments/{s['alignment']}/publish", headers=tenant)
    assert published.status_code == 200, published.text
    r = patch(client, tenant, s["east"], {"parent_id": s["south"]})
    assert r.status_code == 409 and r.json()["state"] == "active"
    assert client.get(f"/v1/territories/{s['east']}", headers=tenant).json()["parent_id"] == s["d1"]
    assert outbox(client, s["east"])[-1][0] == "geo.territory.created.v1"


def test_a_territory_outside_any_alignment_moves_under_another_one_but_never_into_a_cycle(client, nc_layer):
    tenant, _ = nc_layer
    team = client.post("/v1/territories", json={"code": "TEAM", "name": "team"}, headers=tenant).json()["id"]
    key = client.post("/v1/territories", json={"code": "KEY", "name": "key"}, headers=tenant).json()["id"]
    assert patch(client, tenant, key, {"parent_id": team}).json()["parent_id"] == team
    r = patch(client, tenant, team, {"parent_id": key})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "parent_id"


# Territories as CSV


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def put_territories(client, tenant, alignment_id, body: str, version=None):
    headers = {**tenant, "content-type": "text/csv"}
    if version is not None:
        headers["If-Match"] = f'"{version}"'
    return client.put(f"/v1/alignments/{alignment_id}/territories.csv", content=body.encode(), headers=headers)


def test_the_export_lists_each_territory_with_its_parent_code_parents_first(client, regions):
    s, tenant = regions, regions["tenant"]
    r = client.get(f"/v1/alignments/{s['alignment']}/territories.csv", headers=tenant)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.text.splitlines()[0] == "code,name,parent_code,colour"
    assert rows(r.text) == [
        {"code": "NORTH", "name": "NORTH name", "parent_code": "", "colour": "#112233"},
        {"code": "D1", "name": "D1 name", "parent_code": "NORTH", "colour": ""},
        {"code": "EAST", "name": "EAST name", "parent_code": "D1", "colour": "#aa0000"},
        {"code": "WEST", "name": "WEST name", "parent_code": "D1", "colour": ""},
        {"code": "SOUTH", "name": "SOUTH name", "parent_code": "", "colour": ""},
    ]
    assert client.get("/v1/alignments/nope/territories.csv", headers=tenant).status_code == 404


def test_an_import_creates_children_listed_before_their_parents(client, nc_layer):
    tenant, layer_id = nc_layer
    a = create_alignment(client, tenant, layer_id, name="from csv")
    body = (
        "code,name,parent_code,colour\n"
        "T1,Leaf one,DIST,#00ff00\n"
        "DIST,District,REG,\n"
        "REG,Region,,#0000ff\n"
        "T2,Leaf two,DIST,\n"
    )

    r = put_territories(client, tenant, a["id"], body, version=a["version"])

    assert r.status_code == 200, r.text
    assert r.json() == {"created": 4, "updated": 0, "version": a["version"] + 1}
    assert r.headers["etag"] == f'"{a["version"] + 1}"'
    assert hierarchy(client, tenant, a["id"]) == {
        "REG": ("Region", None, "#0000ff"),
        "DIST": ("District", "REG", None),
        "T1": ("Leaf one", "DIST", "#00ff00"),
        "T2": ("Leaf two", "DIST", None),
    }


def test_an_import_updates_names_colours_and_parents_by_code_and_recomputes_shapes(client, regions):
    s, tenant = regions, regions["tenant"]
    body = (
        "code,name,parent_code,colour\n"
        "EAST,Triangle,SOUTH,#abcdef\n"  # moved under another region, renamed, recoloured
        "NORTH,NORTH name,,\n"  # colour cleared
        "SOUTH,SOUTH name,,\n"  # unchanged
        "NEW,Brand new,NORTH,\n"
    )
    r = put_territories(client, tenant, s["alignment"], body)
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 1 and r.json()["updated"] == 2
    h = hierarchy(client, tenant, s["alignment"])
    assert h["EAST"] == ("Triangle", "SOUTH", "#abcdef")
    assert h["NORTH"] == ("NORTH name", None, None)
    assert h["NEW"] == ("Brand new", "NORTH", None)
    assert h["WEST"] == ("WEST name", "D1", None)  # not listed: left as it is
    after = shapes(client, tenant, s["alignment"])
    assert after["SOUTH"]["properties"]["unit_count"] == 3 and after["NORTH"]["properties"]["unit_count"] == 2
    assert [t for t, _ in outbox(client, s["south"])] == ["geo.territory.created.v1"]
    assert [t for t, _ in outbox(client, s["east"])][-1] == "geo.territory.renamed.v1"


def test_a_file_without_parent_or_colour_columns_keeps_parents_and_colours(client, regions):
    s, tenant = regions, regions["tenant"]
    r = put_territories(client, tenant, s["alignment"], "name,code\nRenamed east,EAST\n")
    assert r.status_code == 200, r.text
    assert hierarchy(client, tenant, s["alignment"])["EAST"] == ("Renamed east", "D1", "#aa0000")


BAD_FILES = [
    # (file, [(row, column, words of the reason)])
    (
        "code,name,parent_code,colour\nA,a,B,\nB,b,C,\nC,c,A,\n",
        [(2, "parent_code", "cycle"), (3, "parent_code", "cycle"), (4, "parent_code", "cycle")],
    ),
    ("code,name,parent_code\nA,a,A\n", [(2, "parent_code", "own parent")]),
    ("code,name,parent_code\nNORTH,n,EAST\n", [(2, "parent_code", "cycle")]),  # EAST is under NORTH already
    ("code,name,parent_code\nA,a,\nB,b,NOWHERE\n", [(3, "parent_code", "no territory has this code")]),
    ("code,name,parent_code\nA,a,\nB,b,A\nA,again,\n", [(4, "code", "also on row 2")]),
    ("code,name,parent_code\nX,x,WEST\n", [(2, "parent_code", "owns units")]),
    (
        "code,name,colour\nA,a,red\nbad code!,b,\n,c,\nD,,\n",
        [
            (2, "colour", "#rrggbb"),
            (3, "code", "letters, digits"),
            (4, "code", "required"),
            (5, "name", "required"),
        ],
    ),  # fmt: skip
    ("code,name,parent,colour\nA,a,,\n", [(1, "parent", "unknown column")]),
    ("code,parent_code\nA,\n", [(1, "name", "required")]),
]


@pytest.mark.parametrize(("body", "expected"), BAD_FILES)
def test_a_bad_file_is_refused_naming_each_row_and_column_and_changes_nothing(client, regions, body, expected):
    s, tenant = regions, regions["tenant"]
    before = hierarchy(client, tenant, s["alignment"]), version_of(client, tenant, s["alignment"])

    r = put_territories(client, tenant, s["alignment"], body)

    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    errors = r.json()["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [(row, column) for row, column, _ in expected]
    for error, (_, _, words) in zip(errors, expected, strict=True):
        assert words in error["reason"], error
    assert f"row {expected[0][0]}" in r.json()["detail"]
    assert (hierarchy(client, tenant, s["alignment"]), version_of(client, tenant, s["alignment"])) == before


def test_an_import_into_a_published_or_stale_or_unknown_alignment_is_refused(client, regions):
    s, tenant = regions, regions["tenant"]
    body = "code,name,parent_code,colour\nZ,z,,\n"
    assert put_territories(client, tenant, s["alignment"], body, version=1).status_code == 412
    assert put_territories(client, tenant, "nope", body).status_code == 404
    assert put_territories(client, tenant, s["alignment"], "").status_code == 422
    client.post(f"/v1/alignments/{s['alignment']}/publish", headers=tenant)
    r = put_territories(client, tenant, s["alignment"], body)
    assert r.status_code == 409
    assert "Z" not in hierarchy(client, tenant, s["alignment"])
    manager = {**auth_headers("nc-hierarchy", "manager"), "content-type": "text/csv"}
    r = client.put(f"/v1/alignments/{s['alignment']}/territories.csv", content=body.encode(), headers=manager)
    assert r.status_code == 403


def test_territories_and_assignments_exported_then_imported_into_a_new_draft_rebuild_the_alignment(client, regions):
    s, tenant = regions, regions["tenant"]
    territories_csv = client.get(f"/v1/alignments/{s['alignment']}/territories.csv", headers=tenant).text
    assignments_csv = client.get(f"/v1/alignments/{s['alignment']}/export.csv", headers=tenant).text
    fresh = create_alignment(client, tenant, s["layer"], name="rebuilt")
    # Children first: the import orders them itself.
    header, *lines = territories_csv.splitlines()
    shuffled = "\n".join([header, *reversed(lines)]) + "\n"

    r = put_territories(client, tenant, fresh["id"], shuffled, version=fresh["version"])
    assert r.status_code == 200, r.text
    r = client.put(
        f"/v1/alignments/{fresh['id']}/assignments.csv",
        content=assignments_csv.encode(),
        headers={**tenant, "content-type": "text/csv", "If-Match": f'"{r.json()["version"]}"'},
    )
    assert r.status_code == 200, r.text
    assert r.json()["territories_created"] == 0

    assert hierarchy(client, tenant, fresh["id"]) == hierarchy(client, tenant, s["alignment"])
    assert client.get(f"/v1/alignments/{fresh['id']}/territories.csv", headers=tenant).text == territories_csv
    assert client.get(f"/v1/alignments/{fresh['id']}/export.csv", headers=tenant).text == assignments_csv
    original, rebuilt = shapes(client, tenant, s["alignment"]), shapes(client, tenant, fresh["id"])
    assert {c: f["properties"]["unit_count"] for c, f in rebuilt.items()} == {
        c: f["properties"]["unit_count"] for c, f in original.items()
    }
    for code, feature in original.items():
        if feature["geometry"] is not None:
            a, b = shapely.geometry.shape(feature["geometry"]), shapely.geometry.shape(rebuilt[code]["geometry"])
            assert a.symmetric_difference(b).area < 1e-9 * max(a.area, 1e-12), code
        else:
            assert rebuilt[code]["geometry"] is None
