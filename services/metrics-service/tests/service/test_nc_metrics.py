"""Metrics of real North Carolina counties (libpysal ``sids2``), imported through geo-service and fed to
metrics-service by geo-service's own events, on SQLite and on PostGIS."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import shapely
from territory_shared.geometry import to_equal_area

from tests.support.auth import auth_headers
from tests.support.databases import fetch_all

from .conftest import eventually, nc_zip, platform_app

pytestmark = pytest.mark.postgis

OUT_OF_BALANCE = "metrics.territory.out_of_balance_detected.v1"

WAKE = "37183"
WAKE_NEIGHBOURS = ["37063", "37077", "37069", "37101", "37085", "37037"]
# The far west (one polygon) and the far north-east (Currituck: mainland and two Outer Banks pieces).
CHEROKEE, CURRITUCK = "37039", "37053"
WHITE_SPACE = ["37001", "37003", "37005", "37007"]


def geo(client, method, path, tenant, **kw):
    r = client.request(method, f"/geo{path}", headers={**tenant, **kw.pop("headers", {})}, **kw)
    assert r.status_code < 300, r.text
    return r


def metrics(client, path, tenant, **params):
    r = client.get(f"/metrics{path}", headers=tenant, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def territory(client, tenant, alignment_id, code, parent_id=None):
    body = {"code": code, "name": code, "alignment_id": alignment_id} | ({"parent_id": parent_id} if parent_id else {})
    return geo(client, "POST", "/v1/territories", tenant, json=body).json()["id"]


def move(client, tenant, alignment_id, unit_ids, territory_id):
    version = geo(client, "GET", f"/v1/alignments/{alignment_id}", tenant).json()["version"]
    return geo(
        client,
        "POST",
        f"/v1/alignments/{alignment_id}/moves",
        tenant,
        json={"unit_ids": unit_ids, "territory_id": territory_id},
        headers={"If-Match": f'"{version}"'},
    ).json()


def geo_membership(client, tenant, alignment_id) -> dict[str, str | None]:
    rows = geo(client, "GET", f"/v1/alignments/{alignment_id}/units", tenant).json()
    return {u["unit_id"]: u["territory_id"] for u in rows}


def caught_up(client, tenant, alignment_id) -> dict:
    """Metrics of the alignment once metrics-service reflects geo-service's memberships."""
    expected: dict[str, int] = {}
    for t in geo_membership(client, tenant, alignment_id).values():
        if t is not None:
            expected[t] = expected.get(t, 0) + 1

    def check():
        r = client.get(f"/metrics/v1/alignments/{alignment_id}/metrics", headers=tenant)
        if r.status_code != 200:
            return None
        body = r.json()
        got = {t["territory_id"]: t["unit_count"] for t in body["territories"] if t["leaf"] and t["unit_count"]}
        return body if got == expected else None

    return eventually(check, 60, "metrics reflect geo-service's memberships")


@pytest.fixture(scope="module")
def nc(client, tmp_path_factory):
    """An NC layer and a draft: two regions, four leaf territories by longitude, four counties of white space."""
    tenant = auth_headers("nc-metrics")
    r = geo(
        client,
        "POST",
        "/v1/layers",
        tenant,
        files={"file": ("sids2.zip", nc_zip(tmp_path_factory.mktemp("nc")).read_bytes())},
        data={"name": "NC", "id_column": "FIPS", "attributes": "BIR74,SID74,NWBIR74"},
    )
    job_id = r.json()["job_id"]
    job = eventually(
        lambda: (
            (j := geo(client, "GET", f"/v1/jobs/{job_id}", tenant).json())["status"] in ("succeeded", "failed") and j
        ),
        120,
        "layer import",
    )
    assert job["status"] == "succeeded", job
    layer_id = job["result"]["layer_id"]
    units = geo(client, "GET", f"/v1/layers/{layer_id}/units", tenant, params={"limit": 1000}).json()["items"]
    fc = json.loads(geo(client, "GET", f"/v1/layers/{layer_id}/units.geojson", tenant, params={"limit": 1000}).content)
    a = geo(
        client, "POST", "/v1/alignments", tenant, json={"name": "FY27", "sales_force": "field", "layer_id": layer_id}
    ).json()
    west_region = territory(client, tenant, a["id"], "WEST")
    east_region = territory(client, tenant, a["id"], "EAST")
    leaves = [
        territory(client, tenant, a["id"], "W1", west_region),
        territory(client, tenant, a["id"], "W2", west_region),
        territory(client, tenant, a["id"], "E1", east_region),
        territory(client, tenant, a["id"], "E2", east_region),
    ]
    assigned = sorted((u for u in units if u["unit_id"] not in WHITE_SPACE), key=lambda u: u["centroid"][0])
    quarter = -(-len(assigned) // 4)
    for i, leaf in enumerate(leaves):
        move(client, tenant, a["id"], [u["unit_id"] for u in assigned[i * quarter : (i + 1) * quarter]], leaf)
    body = caught_up(client, tenant, a["id"])
    return {
        "tenant": tenant,
        "layer": layer_id,
        "alignment": a["id"],
        "regions": {"WEST": west_region, "EAST": east_region},
        "leaves": dict(zip(["W1", "W2", "E1", "E2"], leaves, strict=True)),
        "units": {u["unit_id"]: u for u in units},
        "geometries": {f["id"]: shapely.geometry.shape(f["geometry"]) for f in fc["features"]},
        "metrics": body,
    }


def by_code(body: dict) -> dict[str, dict]:
    return {t["code"]: t for t in body["territories"]}


def test_territory_sums_of_unit_attributes_at_every_level(client, nc):
    membership = geo_membership(client, nc["tenant"], nc["alignment"])
    rows = by_code(nc["metrics"])
    for code, tid in nc["leaves"].items():
        expected = sum(nc["units"][u]["attributes"]["BIR74"] for u, t in membership.items() if t == tid)
        assert rows[code]["values"]["BIR74"] == pytest.approx(expected)
        assert rows[code]["leaf"] and rows[code]["depth"] == 1
    for region, leaves in (("WEST", ("W1", "W2")), ("EAST", ("E1", "E2"))):
        assert not rows[region]["leaf"] and rows[region]["depth"] == 0
        for metric in ("BIR74", "SID74", "NWBIR74"):
            assert rows[region]["values"][metric] == pytest.approx(sum(rows[c]["values"][metric] for c in leaves))
        assert rows[region]["unit_count"] == sum(rows[c]["unit_count"] for c in leaves)
    assert nc["metrics"]["white_space"]["unit_count"] == len(WHITE_SPACE)
    white_births = sum(nc["units"][u]["attributes"]["BIR74"] for u in WHITE_SPACE)
    assert nc["metrics"]["white_space"]["values"]["BIR74"] == pytest.approx(white_births)


def test_area_compactness_and_parts_match_shapely_on_projected_geometry(client, nc):
    membership = geo_membership(client, nc["tenant"], nc["alignment"])
    rows = by_code(nc["metrics"])
    ids = list(nc["geometries"])
    projected, _ = to_equal_area(np.array([nc["geometries"][u] for u in ids], dtype=object))
    by_unit = dict(zip(ids, projected, strict=True))
    for code, tid in nc["leaves"].items():
        union = shapely.union_all([by_unit[u] for u, t in membership.items() if t == tid])
        assert rows[code]["area_km2"] == pytest.approx(union.area / 1e6, rel=1e-9)
        assert rows[code]["polsby_popper"] == pytest.approx(4 * math.pi * union.area / union.length**2, rel=1e-9)
        parts = len(union.geoms) if union.geom_type == "MultiPolygon" else 1
        assert rows[code]["parts"] == parts
        assert 0 < rows[code]["polsby_popper"] < 1


def test_disconnected_parts_and_what_if_equals_the_metrics_after_the_actual_move(client, nc):
    tenant, a = nc["tenant"], nc["alignment"]
    copy = geo(client, "POST", "/v1/alignments", tenant, json={"name": "parts", "sales_force": "parts", "copy_from": a})
    b = copy.json()["id"]
    caught_up(client, tenant, b)
    b_leaves = {
        t["code"]: t["territory_id"] for t in metrics(client, f"/v1/alignments/{b}/metrics", tenant)["territories"]
    }
    # A territory of two counties 700 km apart has their parts (1 + 3); Wake and its neighbours make one.
    far = territory(client, tenant, b, "FAR", b_leaves["WEST"])
    near = territory(client, tenant, b, "NEAR", b_leaves["EAST"])
    planned = [
        {"unit_ids": [CHEROKEE, CURRITUCK], "territory_id": far},
        {"unit_ids": [WAKE, *WAKE_NEIGHBOURS], "territory_id": near},
    ]
    eventually(
        lambda: (
            {"FAR", "NEAR"}
            <= {t["code"] for t in metrics(client, f"/v1/alignments/{b}/metrics", tenant)["territories"]}
        ),
        30,
        "new territories projected",
    )
    r = client.post(
        f"/metrics/v1/alignments/{b}/what-if",
        headers=tenant,
        json={"moves": planned, "metric": "BIR74", "tolerance": 0.05, "all_territories": True},
    )
    assert r.status_code == 200, r.text
    what_if = r.json()
    assert set(what_if["touched"]) >= {far, near}
    assert what_if["elapsed_ms"] < 1000
    for m in planned:
        move(client, tenant, b, m["unit_ids"], m["territory_id"])
    actual = caught_up(client, tenant, b)
    after = by_code({"territories": what_if["after"]})
    for code, row in by_code(actual).items():
        assert after[code]["values"] == pytest.approx(row["values"]), code
        for key in ("unit_count", "parts", "area_km2", "polsby_popper"):
            assert after[code][key] == pytest.approx(row[key]), (code, key)
    assert after["FAR"]["parts"] == 1 + 3 and after["NEAR"]["parts"] == 1
    assert after["NEAR"]["unit_count"] == 1 + len(WAKE_NEIGHBOURS)
    balance_after = metrics(client, f"/v1/alignments/{b}/balance", tenant, metric="BIR74", tolerance=0.05)[0]
    assert what_if["balance_after"]["max_deviation_pct"] == pytest.approx(balance_after["max_deviation_pct"])
    assert what_if["balance_after"]["gini"] == pytest.approx(balance_after["gini"])


def test_a_what_if_that_moves_units_into_a_parent_territory_is_refused_as_geo_service_refuses_the_move(client, nc):
    tenant, a, west = nc["tenant"], nc["alignment"], nc["regions"]["WEST"]
    before = metrics(client, f"/v1/alignments/{a}/metrics", tenant)
    moves = [{"unit_ids": [CHEROKEE], "territory_id": nc["leaves"]["W1"]}, {"unit_ids": [WAKE], "territory_id": west}]
    r = client.post(f"/metrics/v1/alignments/{a}/what-if", headers=tenant, json={"moves": moves})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", r.text
    assert r.json()["field"] == "moves.territory_id" and r.json()["territory_id"] == west
    assert [e["field"] for e in r.json()["errors"]] == ["moves.territory_id"] and "leaf" in r.json()["detail"]
    version = geo(client, "GET", f"/v1/alignments/{a}", tenant).json()["version"]
    real = client.post(
        f"/geo/v1/alignments/{a}/moves",
        json={"unit_ids": [WAKE], "territory_id": west},
        headers={**tenant, "If-Match": f'"{version}"'},
    )
    assert real.status_code == 409, "geo-service refuses the same move"
    assert metrics(client, f"/v1/alignments/{a}/metrics", tenant)["territories"] == before["territories"]


def test_balance_figures_are_those_of_the_leaf_values(client, nc):
    body = metrics(client, f"/v1/alignments/{nc['alignment']}/balance", nc["tenant"], metric="BIR74", tolerance=0.05)[0]
    values = np.array([t["value"] for t in body["territories"]])
    mean = values.mean()
    assert len(values) == 4 and body["target"] == pytest.approx(mean)
    assert body["max_deviation_pct"] == pytest.approx(np.abs(values / mean - 1).max() * 100)
    assert body["cv"] == pytest.approx(values.std() / mean)
    pairs = np.abs(values[:, None] - values[None, :]).sum()
    assert body["gini"] == pytest.approx(pairs / (2 * len(values) ** 2 * mean))
    assert body["out_of_balance"] == sum(abs(v / mean - 1) > 0.05 for v in values)
    # A given target instead of the mean; the top level instead of the leaves.
    given = metrics(
        client, f"/v1/alignments/{nc['alignment']}/balance", nc["tenant"], metric="BIR74", target="20000", level=0
    )[0]
    assert given["target"] == 20000 and {t["code"] for t in given["territories"]} == {"WEST", "EAST"}


def test_market_gap_names_under_and_over_served_territories_and_white_space(client, nc):
    body = metrics(client, f"/v1/alignments/{nc['alignment']}/market-gap", nc["tenant"], metric="BIR74", tolerance=0.1)
    values = {t["code"]: t["values"]["BIR74"] for t in nc["metrics"]["territories"] if t["leaf"]}
    mean = np.mean(list(values.values()))
    assert {t["code"] for t in body["under_served"]} == {c for c, v in values.items() if v > mean * 1.1}
    assert {t["code"] for t in body["over_served"]} == {c for c, v in values.items() if v < mean * 0.9}
    assert body["white_space"]["unit_count"] == 4 and set(body["white_space"]["unit_ids"]) == set(WHITE_SPACE)


def test_comparison_gives_deltas_and_disruption(client, nc):
    tenant, a = nc["tenant"], nc["alignment"]
    b = geo(client, "POST", "/v1/alignments", tenant, json={"name": "b", "sales_force": "cmp", "copy_from": a}).json()[
        "id"
    ]
    caught_up(client, tenant, b)
    b_ids = {
        t["code"]: t["territory_id"] for t in metrics(client, f"/v1/alignments/{b}/metrics", tenant)["territories"]
    }
    move(client, tenant, b, [WAKE, *WAKE_NEIGHBOURS[:2]], b_ids["W1"])
    caught_up(client, tenant, b)
    body = metrics(client, "/v1/compare", tenant, a=a, b=b)
    rows = {t["code"]: t for t in body["territories"]}
    moved_births = sum(nc["units"][u]["attributes"]["BIR74"] for u in [WAKE, *WAKE_NEIGHBOURS[:2]])
    membership = geo_membership(client, tenant, a)
    codes = {v: k for k, v in nc["leaves"].items()}
    changed = [u for u in [WAKE, *WAKE_NEIGHBOURS[:2]] if codes.get(membership[u]) != "W1"]
    assert body["disruption"]["units_changed"] == len(changed)
    assert body["disruption"]["unit_share"] == pytest.approx(len(changed) / 100)
    gained = sum(nc["units"][u]["attributes"]["BIR74"] for u in changed)
    assert rows["W1"]["delta"]["BIR74"] == pytest.approx(gained)
    assert sum(rows[c]["delta"]["BIR74"] for c in ("W1", "W2", "E1", "E2")) == pytest.approx(0)
    assert body["totals"]["BIR74"]["delta"] == pytest.approx(0)
    assert moved_births >= gained


def test_publish_takes_a_snapshot_and_tells_out_of_balance_territories(client, nc):
    tenant, a = nc["tenant"], nc["alignment"]
    version = geo(client, "GET", f"/v1/alignments/{a}", tenant).json()["version"]
    geo(client, "POST", f"/v1/alignments/{a}/publish", tenant, headers={"If-Match": f'"{version}"'})
    trend = eventually(
        lambda: (t := metrics(client, f"/v1/alignments/{a}/trend", tenant, metric="BIR74"))["points"] and t,
        30,
        "a publish snapshot",
    )
    point = trend["points"][0]
    assert point["reason"] == "publish" and point["totals"]["BIR74"] > 0
    expected_out = {
        t["code"]
        for t in metrics(client, f"/v1/alignments/{a}/balance", tenant, metric="BIR74", tolerance=0.10)[0][
            "territories"
        ]
        if not t["within_tolerance"]
    }
    db = client.app.state.metrics.state.runtime.settings.database_url
    rows = fetch_all(db, "SELECT payload FROM outbox WHERE event_type = :t", t=OUT_OF_BALANCE)
    told = [json.loads(bytes(r["payload"]))["data"] for r in rows]
    told = [d for d in told if d["alignment_id"] == a and d["metric"] == "BIR74"]
    assert {d["territory_code"] for d in told} == expected_out
    assert metrics(client, "/v1/trend", tenant, sales_force="field")["points"][0]["alignment_id"] == a
    assert metrics(client, "/v1/alignments", tenant, state="active")[0]["alignment_id"] == a


def test_a_rebuild_from_the_replayed_topics_equals_the_live_state(client, nc, store):
    tenant = nc["tenant"]
    live = {a["alignment_id"]: a for a in metrics(client, "/v1/alignments", tenant)}
    with ReplayClient(store) as replay:

        def same() -> bool:
            for alignment_id in live:
                r = replay.get(f"/metrics/v1/alignments/{alignment_id}/metrics", headers=tenant)
                expected = metrics(client, f"/v1/alignments/{alignment_id}/metrics", tenant)
                if r.status_code != 200 or _comparable(r.json()) != _comparable(expected):
                    return False
            return True

        eventually(same, 90, "replayed metrics equal the live ones")
    query = "SELECT alignment_id, unit_id, territory_id FROM membership_projection ORDER BY 1, 2"
    assert fetch_all(store["replay"], query) == fetch_all(store["metrics"], query)
    query = "SELECT alignment_id, state, version, deleted FROM alignment_projection ORDER BY 1"
    assert fetch_all(store["replay"], query) == fetch_all(store["metrics"], query)
    columns = "territory_id, code, name, version, deleted, alignment_id, parent_id"
    query = f"SELECT {columns} FROM territory_projection ORDER BY 1"
    assert fetch_all(store["replay"], query) == fetch_all(store["metrics"], query)


def _comparable(body: dict) -> dict:
    body = dict(body)
    body.pop("revision")
    return body


class ReplayClient:
    """A second metrics-service on an empty database, consuming the same topics from the start."""

    def __init__(self, store):
        from fastapi.testclient import TestClient

        app = platform_app(store, metrics_db=store["replay"], service_name="metrics-replay", geo_workers=False)
        self._client = TestClient(app)

    def __enter__(self):
        return self._client.__enter__()

    def __exit__(self, *exc):
        return self._client.__exit__(*exc)


def test_errors_are_problem_details(client, nc):
    tenant, a = nc["tenant"], nc["alignment"]
    r = client.get(f"/metrics/v1/alignments/{a}/metrics", headers=tenant, params={"metric": "nope"})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert "BIR74" in r.json()["metrics"]
    r = client.get("/metrics/v1/alignments/unknown/metrics", headers=tenant)
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    r = client.get(f"/metrics/v1/alignments/{a}/metrics", headers=auth_headers("someone-else"))
    assert r.status_code == 404, "another tenant's alignment is not found"
    r = client.post(
        f"/metrics/v1/alignments/{a}/what-if",
        headers=tenant,
        json={"moves": [{"unit_ids": ["99999"], "territory_id": None}]},
    )
    assert r.status_code == 404 and r.json()["unit_ids"] == ["99999"]
    r = client.get(f"/metrics/v1/alignments/{a}/balance", headers=tenant, params={"target": "lots"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "target"
    assert client.get(f"/metrics/v1/alignments/{a}/metrics").status_code == 401
