"""Splitting units of a draft into the finer units of another layer, on a synthetic 3x3 grid and a 6x6 grid.

The coarse cells are one degree square, the fine ones half a degree, and their ids collide on purpose (both layers
number their cells 01001, 01002, ...): the pieces' ids carry a prefix. The draft moves onto a derived layer holding
the eight other coarse cells and the pieces; every refusal changes nothing.
"""

from __future__ import annotations

import json
import math

import pytest
import shapely

from tests.support.auth import auth_headers
from tests.support.databases import fetch_all

from .conftest import import_file

pytestmark = pytest.mark.postgis

WEST, SOUTH = -100.0, 35.0
CENTRE, EAST_OF_CENTRE = "01005", "01006"  # the coarse cells (row 1, col 1) and (row 1, col 2)
CENTRE_PIECES = {"zip:01015", "zip:01016", "zip:01021", "zip:01022"}  # the fine cells inside the centre cell


def grid(rows: int, size: float, value: float, dx: float = 0.0, dy: float = 0.0) -> bytes:
    """Square cells numbered 01001, 01002, ... row by row from the south-west, each with pop = value."""
    features = []
    for r in range(rows):
        for c in range(rows):
            x, y = WEST + c * size + dx, SOUTH + r * size + dy
            features.append(
                {
                    "type": "Feature",
                    "properties": {"id": f"01{r * rows + c + 1:03d}", "pop": value, "name": f"Cell {r * rows + c + 1}"},
                    "geometry": shapely.geometry.mapping(shapely.box(x, y, x + size, y + size)),
                }
            )
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def import_grid(client, tenant, name: str, content: bytes) -> str:
    job = import_file(
        client, tenant, content=content, filename="grid.geojson", name=name, id_column="id", attributes="pop",
        name_column="name",
    )  # fmt: skip
    assert job["status"] == "succeeded", job
    return job["result"]["layer_id"]


@pytest.fixture(scope="module")
def layers(client):
    tenant = auth_headers("split-planner")
    coarse = import_grid(client, tenant, "Test counties", grid(3, 1.0, 100.0))
    fine = import_grid(client, tenant, "Test approximate ZIP areas", grid(6, 0.5, 10.0))
    # The fine grid moved 0.0004 degrees east and north: each cell leaves a sliver in its neighbours.
    shifted = import_grid(client, tenant, "Shifted ZIP areas", grid(6, 0.5, 10.0, dx=0.0004, dy=0.0004))
    far = import_grid(client, tenant, "Far away ZIP areas", grid(2, 0.5, 1.0, dx=60.0))
    return {"tenant": tenant, "coarse": coarse, "fine": fine, "shifted": shifted, "far": far}


def territory(client, tenant, alignment_id, code) -> str:
    r = client.post("/v1/territories", json={"code": code, "name": code, "alignment_id": alignment_id}, headers=tenant)
    assert r.status_code == 201, r.text
    return r.json()["id"]


@pytest.fixture
def draft(client, layers):
    """A draft on the coarse grid: A holds the middle row's west and centre cells, B the seven others."""
    tenant = layers["tenant"]
    r = client.post(
        "/v1/alignments", json={"name": "grid", "sales_force": "field", "layer_id": layers["coarse"]}, headers=tenant
    )
    assert r.status_code == 201, r.text
    alignment = r.json()
    a, b = territory(client, tenant, alignment["id"], "A"), territory(client, tenant, alignment["id"], "B")
    version = alignment["version"]
    for territory_id, units in ((a, ["01004", CENTRE]), (b, [f"0100{i}" for i in (1, 2, 3, 6, 7, 8, 9)])):
        m = client.post(
            f"/v1/alignments/{alignment['id']}/moves",
            json={"unit_ids": units, "territory_id": territory_id},
            headers={**tenant, "If-Match": f'"{version}"'},
        )
        assert m.status_code == 200, m.text
        version = m.json()["alignment"]["version"]
    return {"id": alignment["id"], "version": version, "A": a, "B": b}


def split(client, tenant, draft, unit_ids, into_layer, version=None, **extra):
    headers = {**tenant, "If-Match": f'"{version if version is not None else draft["version"]}"'}
    return client.post(
        f"/v1/alignments/{draft['id']}/split",
        json={"unit_ids": unit_ids, "into_layer": into_layer, **extra},
        headers=headers,
    )


def units(client, tenant, layer_id) -> dict[str, dict]:
    items = client.get(f"/v1/layers/{layer_id}/units?limit=10000", headers=tenant).json()["items"]
    return {u["unit_id"]: u for u in items}


def memberships(client, tenant, alignment_id) -> dict[str, str | None]:
    rows = client.get(f"/v1/alignments/{alignment_id}/units", headers=tenant).json()
    return {r["unit_id"]: r["territory_id"] for r in rows}


def shapes(client, tenant, layer_id) -> dict[str, shapely.Geometry]:
    page = client.get(f"/v1/layers/{layer_id}/units.geojson?limit=10000", headers=tenant).json()
    return {f["properties"]["unit_id"]: shapely.geometry.shape(f["geometry"]) for f in page["features"]}


def tile(client, tenant, layer_id, pieces, split_layer_id, split_unit) -> bool:
    """The pieces cover the split unit with no overlap: their areas add up to its area (within 1e-9), and their
    union is the unit. Measured on the stored lon/lat geometry, where the clipping is exact; ``area_km2`` projects
    each unit's own vertices with straight edges, so where the pieces add vertices along a parallel it agrees
    only to the curvature of that parallel (a few km2 for a one-degree cell)."""
    derived, coarse = shapes(client, tenant, layer_id), shapes(client, tenant, split_layer_id)
    whole = coarse[split_unit]
    parts = [derived[p] for p in pieces]
    areas_add_up = math.isclose(sum(p.area for p in parts), whole.area, rel_tol=1e-9)
    covered = math.isclose(shapely.union_all(parts).area, whole.area, rel_tol=1e-9)
    km2 = units(client, tenant, layer_id), units(client, tenant, split_layer_id)
    close_in_km2 = math.isclose(
        sum(km2[0][p]["area_km2"] for p in pieces), km2[1][split_unit]["area_km2"], rel_tol=1e-3
    )
    return areas_add_up and covered and close_in_km2


def adjacency(client, tenant, layer_id) -> set[frozenset[str]]:
    edges = client.get(f"/v1/layers/{layer_id}/adjacency", headers=tenant).json()["edges"]
    return {frozenset(e) for e in edges}


def outbox(client, subject) -> list[tuple[str, dict]]:
    rows = fetch_all(
        client.app.state.runtime.settings.database_url,
        "SELECT event_type, payload FROM outbox WHERE key = :k ORDER BY seq",
        k=subject,
    )
    return [(r["event_type"], json.loads(bytes(r["payload"]))["data"]) for r in rows]


def test_a_split_unit_gives_way_to_its_prefixed_pieces_on_a_derived_layer(client, layers, draft):
    tenant = layers["tenant"]
    before = memberships(client, tenant, draft["id"])
    r = split(client, tenant, draft, [CENTRE], layers["fine"])
    assert r.status_code == 200, r.text
    body = r.json()
    derived = body["layer_id"]
    assert body["alignment"]["layer_id"] == derived != layers["coarse"]
    assert body["alignment"]["version"] == draft["version"] + 1
    assert r.headers["ETag"] == f'"{draft["version"] + 1}"'
    assert set(body["pieces"][CENTRE]) == CENTRE_PIECES
    assert body["unit_count"] == 12

    layer = client.get(f"/v1/layers/{derived}", headers=tenant).json()
    assert layer["name"] == f"Test counties + Test approximate ZIP areas (split {CENTRE})"
    assert layer["kind"] == "polygon" and layer["attributes"] == ["pop"] and layer["unit_count"] == 12
    assert layer["lineage"]["parents"] == [layers["coarse"], layers["fine"]]
    assert layer["lineage"]["split_units"] == [CENTRE] and layer["lineage"]["prefix"] == "zip"

    derived_units = units(client, tenant, derived)
    coarse_units = units(client, tenant, layers["coarse"])
    assert set(derived_units) == (set(coarse_units) - {CENTRE}) | CENTRE_PIECES
    # Names: a kept unit keeps its own, a piece takes its finer unit's.
    assert derived_units[EAST_OF_CENTRE]["name"] == coarse_units[EAST_OF_CENTRE]["name"] == "Cell 6"
    fine_units = units(client, tenant, layers["fine"])
    assert {p: derived_units[p]["name"] for p in CENTRE_PIECES} == {
        p: fine_units[p.removeprefix("zip:")]["name"] for p in CENTRE_PIECES
    }
    assert derived_units["zip:01015"]["name"] == "Cell 15"
    # The clipping: the pieces tile the split unit; each fine cell lies wholly inside it, so keeps its value.
    assert tile(client, tenant, derived, CENTRE_PIECES, layers["coarse"], CENTRE)
    for piece in CENTRE_PIECES:
        assert derived_units[piece]["attributes"]["pop"] == pytest.approx(10.0)
        assert derived_units[piece]["source"] == {
            "layer_id": layers["fine"],
            "unit_id": piece.removeprefix("zip:"),
            "split_unit": CENTRE,
            "area_share": pytest.approx(1.0),
        }
    assert derived_units["01001"]["attributes"]["pop"] == 100.0 and derived_units["01001"]["source"] is None

    # Adjacency across the two granularities: the pieces on the east edge touch the coarse cell east of them.
    edges = adjacency(client, tenant, derived)
    assert frozenset({"zip:01016", EAST_OF_CENTRE}) in edges and frozenset({"zip:01022", EAST_OF_CENTRE}) in edges
    assert frozenset({"zip:01015", "01004"}) in edges and frozenset({"zip:01015", "zip:01016"}) in edges
    assert frozenset({"zip:01015", EAST_OF_CENTRE}) not in edges
    assert not any(CENTRE in e for e in edges)

    # Every membership kept; the pieces in A, which held the split unit.
    after = memberships(client, tenant, draft["id"])
    assert after == {u: t for u, t in before.items() if u != CENTRE} | dict.fromkeys(CENTRE_PIECES, draft["A"])
    shapes = client.get(f"/v1/alignments/{draft['id']}/territories.geojson", headers=tenant).json()["features"]
    counts = {f["properties"]["code"]: f["properties"]["unit_count"] for f in shapes}
    assert counts == {"A": 5, "B": 7}
    a_shape = shapely.geometry.shape(next(f["geometry"] for f in shapes if f["properties"]["code"] == "A"))
    assert a_shape.equals_exact(shapely.box(WEST, SOUTH + 1, WEST + 2, SOUTH + 2), 1e-9) or a_shape.normalize().equals(
        shapely.box(WEST, SOUTH + 1, WEST + 2, SOUTH + 2).normalize()
    )

    # A point in the split area is located in its piece, in A.
    r = client.post(
        f"/v1/locate?alignment_id={draft['id']}",
        json={"points": [{"id": "p", "lon": -98.75, "lat": 36.25}]},
        headers=tenant,
    )
    assert r.status_code == 200, r.text
    hit = r.json()["results"][0]
    assert hit["unit_id"] == "zip:01015" and hit["territory_code"] == "A"

    # The events of an import and of an edit, in the same transaction.
    (layer_event,) = [d for t, d in outbox(client, derived) if t == "geo.layer.imported.v1"]
    assert layer_event == {
        "layer_id": derived,
        "name": layer["name"],
        "kind": "polygon",
        "unit_count": 12,
        "attributes": ["pop"],
    }
    edited = [d for t, d in outbox(client, draft["id"]) if t == "geo.alignment.edited.v1"][-1]
    assert edited["layer_id"] == derived and edited["version"] == draft["version"] + 1
    moves = {m["unit_id"]: (m["from_territory_id"], m["to_territory_id"]) for m in edited["moves"]}
    assert moves == {CENTRE: (draft["A"], None)} | dict.fromkeys(CENTRE_PIECES, (None, draft["A"]))


def test_splitting_again_derives_from_the_derived_layer(client, layers, draft):
    tenant = layers["tenant"]
    first = split(client, tenant, draft, [CENTRE], layers["fine"]).json()
    r = split(client, tenant, draft, [EAST_OF_CENTRE], layers["fine"], version=first["alignment"]["version"])
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["alignment"]["version"] == first["alignment"]["version"] + 1
    east_pieces = {"zip:01017", "zip:01018", "zip:01023", "zip:01024"}
    assert set(second["pieces"][EAST_OF_CENTRE]) == east_pieces
    layer = client.get(f"/v1/layers/{second['layer_id']}", headers=tenant).json()
    assert layer["lineage"]["parents"] == [first["layer_id"], layers["fine"]]
    assert layer["lineage"]["base_layer_id"] == layers["coarse"]
    assert layer["name"] == f"Test counties + Test approximate ZIP areas (split {CENTRE}, {EAST_OF_CENTRE})"
    assert (
        set(units(client, tenant, second["layer_id"]))
        == ({f"0100{i}" for i in range(1, 10)} - {CENTRE, EAST_OF_CENTRE}) | CENTRE_PIECES | east_pieces
    )
    # Fine pieces of two splits are neighbours, and B still holds what it held.
    assert frozenset({"zip:01016", "zip:01017"}) in adjacency(client, tenant, second["layer_id"])
    after = memberships(client, tenant, draft["id"])
    assert {u for u, t in after.items() if t == draft["B"]} == {
        "01001",
        "01002",
        "01003",
        "01007",
        "01008",
        "01009",
    } | east_pieces


def test_slivers_are_dropped_and_the_pieces_still_tile_the_split_unit(client, layers, draft):
    tenant = layers["tenant"]
    r = split(client, tenant, draft, [CENTRE], layers["shifted"])
    assert r.status_code == 200, r.text
    pieces = set(r.json()["pieces"][CENTRE])
    # The shifted cells reaching into the centre by 0.0004 degrees hold less than 0.1% of either: dropped.
    assert pieces == CENTRE_PIECES
    derived = units(client, tenant, r.json()["layer_id"])
    assert tile(client, tenant, r.json()["layer_id"], pieces, layers["coarse"], CENTRE)
    # A piece's value is its cell's times the share of the cell inside the split unit: the south-west cell lies
    # wholly inside, the others reach 0.0004 degrees (0.08% of a side) out of it to the east or north or both.
    shares = {"zip:01015": 1.0, "zip:01016": 0.9992, "zip:01021": 0.9992, "zip:01022": 0.9992**2}
    for piece, share in shares.items():
        assert derived[piece]["source"]["area_share"] == pytest.approx(share, abs=2e-5)
        assert derived[piece]["attributes"]["pop"] == pytest.approx(10.0 * derived[piece]["source"]["area_share"])
    # The slivers went to the pieces beside them: the south-west piece took the south and west strips.
    assert derived["zip:01015"]["area_km2"] > derived["zip:01022"]["area_km2"] * 1.001


def test_a_unit_split_into_a_layer_of_other_ids_keeps_both_ids_apart_and_explicit_prefixes_are_checked(
    client, layers, draft
):
    tenant = layers["tenant"]
    r = split(client, tenant, draft, [CENTRE], layers["fine"], prefix="fine1")
    assert r.status_code == 200, r.text
    assert set(r.json()["pieces"][CENTRE]) == {p.replace("zip:", "fine1:") for p in CENTRE_PIECES}


def _state(client, tenant, draft) -> tuple:
    alignment = client.get(f"/v1/alignments/{draft['id']}", headers=tenant).json()
    layer_count = len(client.get("/v1/layers", headers=tenant).json())
    return alignment["version"], alignment["layer_id"], layer_count, memberships(client, tenant, draft["id"])


@pytest.mark.parametrize(
    ("case", "status", "field"),
    [
        ("unknown unit", 422, "unit_ids"),
        ("no units", 422, "unit_ids"),
        ("unknown layer", 422, "into_layer"),
        ("own layer", 422, "into_layer"),
        ("nothing covers it", 422, "unit_ids"),
        ("bad prefix", 422, "prefix"),
        ("stale version", 412, None),
        ("locked unit", 409, "unit_ids"),
    ],
)
def test_a_refused_split_names_the_field_and_changes_nothing(client, layers, draft, case, status, field):
    tenant = layers["tenant"]
    version = draft["version"]
    if case == "locked unit":
        r = client.post(
            f"/v1/alignments/{draft['id']}/locks", json={"unit_ids": [CENTRE], "locked": True}, headers=tenant
        )
        assert r.status_code == 200, r.text
        version = r.json()["version"]
    before = _state(client, tenant, draft)
    unit_ids, into_layer, extra = [CENTRE], layers["fine"], {}
    if case == "unknown unit":
        unit_ids = [CENTRE, "99999"]
    elif case == "no units":
        unit_ids = []
    elif case == "unknown layer":
        into_layer = "no-such-layer"
    elif case == "own layer":
        into_layer = layers["coarse"]
    elif case == "nothing covers it":
        into_layer = layers["far"]
    elif case == "bad prefix":
        extra = {"prefix": "Zip Codes!"}
    elif case == "stale version":
        version -= 1
    r = split(client, tenant, draft, unit_ids, into_layer, version=version, **extra)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    if field is not None:
        assert field in {e["field"] for e in problem.get("errors", [])} | {problem.get("field")}
    if case == "unknown unit":
        assert problem["unit_ids"] == ["99999"]
    assert _state(client, tenant, draft) == before


def test_only_a_draft_can_be_split(client, layers, draft):
    tenant = layers["tenant"]
    r = client.post(f"/v1/alignments/{draft['id']}/publish", headers={**tenant, "If-Match": f'"{draft["version"]}"'})
    assert r.status_code == 200, r.text
    published = r.json()
    before = _state(client, tenant, draft)
    r = split(client, tenant, draft, [CENTRE], layers["fine"], version=published["version"])
    assert r.status_code == 409, r.text
    assert r.json()["state"] == "active"
    assert _state(client, tenant, draft) == before


def test_readers_cannot_split(client, layers, draft):
    reader = auth_headers("split-planner", role="manager")
    r = split(client, reader, draft, [CENTRE], layers["fine"])
    assert r.status_code == 403, r.text
