"""Accounts counted per grid cell for the map, against a brute-force count of the same accounts; the box, the
lone account's name, deleted and unlocated accounts left out, tenants apart, bad input refused."""

from __future__ import annotations

import math
import random
import uuid

import pytest

from tests.support.auth import auth_headers

from .conftest import upsert

pytestmark = pytest.mark.postgis


def _accounts(rng: random.Random, n: int) -> list[dict]:
    rows = []
    for i in range(n):
        # Points well inside 1-degree cells (never on a cell edge), in a few clumps and some alone.
        lon = rng.choice([-80, -79, -78, -100]) + rng.uniform(0.05, 0.95)
        lat = rng.choice([35, 36, 44]) + rng.uniform(0.05, 0.95)
        rows.append({"external_id": f"A{i:04d}", "name": f"Account {i}", "lat": lat, "lon": lon, "potential": i})
    return rows


def _brute_force(rows: list[dict], box: tuple[float, float, float, float] | None = None) -> dict:
    cells: dict[tuple[int, int], list[dict]] = {}
    for r in rows:
        if box and not (box[0] <= r["lon"] <= box[2] and box[1] <= r["lat"] <= box[3]):
            continue
        cells.setdefault((math.floor(r["lon"] + 180), math.floor(r["lat"] + 90)), []).append(r)
    return {
        (round(sum(r["lon"] for r in rs) / len(rs), 6), round(sum(r["lat"] for r in rs) / len(rs), 6)): (
            len(rs),
            sum(r["potential"] for r in rs),
        )
        for rs in cells.values()
    }


def _shown(body: dict) -> dict:
    return {(round(c["lon"], 6), round(c["lat"], 6)): (c["count"], c["potential"]) for c in body["clusters"]}


def test_clusters_count_every_located_live_account_once_per_cell(client):
    tenant = auth_headers(f"t-clusters-{uuid.uuid4().hex[:8]}")
    rows = _accounts(random.Random(5), 240)
    assert upsert(client, tenant, rows).status_code == 200
    extra = [{"external_id": "NOWHERE", "name": "No location", "potential": 5}, dict(rows[0], external_id="GONE")]
    assert upsert(client, tenant, extra).status_code == 200
    assert client.delete("/v1/accounts/GONE", headers=tenant).status_code in (200, 204)

    body = client.get("/v1/account-clusters?cell=1", headers=tenant).json()
    assert body["accounts"] == 240
    assert _shown(body) == _brute_force(rows)

    box = (-80.0, 35.0, -78.5, 36.5)
    boxed = client.get("/v1/account-clusters", params={"cell": 1, "bbox": ",".join(map(str, box))}, headers=tenant)
    assert _shown(boxed.json()) == _brute_force(rows, box)

    # A cell small enough for one account each names it.
    lone = client.get("/v1/account-clusters?cell=0.0001", headers=tenant).json()["clusters"]
    assert len(lone) == 240
    assert {(c["external_id"], c["name"]) for c in lone} == {(r["external_id"], r["name"]) for r in rows}

    other = auth_headers(f"t-clusters-{uuid.uuid4().hex[:8]}")
    assert client.get("/v1/account-clusters?cell=1", headers=other).json() == {"cell": 1, "accounts": 0, "clusters": []}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("cell=0", "cell"),
        ("cell=90", "cell"),
        ("cell=1&bbox=1,2,3", "bbox"),
        ("cell=1&bbox=10,0,-10,5", "bbox"),
        ("cell=1&bbox=a,b,c,d", "bbox"),
        ("", "cell"),
    ],  # fmt: skip
)
def test_bad_cells_and_boxes_are_refused_naming_the_parameter(client, query, field):
    r = client.get(f"/v1/account-clusters?{query}", headers=auth_headers("t-clusters-bad"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in str(r.json()["errors"])


def test_reps_are_refused(client):
    r = client.get("/v1/account-clusters?cell=1", headers=auth_headers("t-clusters-rep", "rep", rep_id="R1"))
    assert r.status_code == 403, r.text
