"""The optimizer on a mixed-granularity alignment: California's counties with Los Angeles County split into its
approximate ZIP areas (a derived layer of geo-service), through a design job like any other.

Los Angeles County holds a quarter of California's people: with eight territories balanced on account potential, no
alignment of counties can balance the territory holding it, so a design job sets that territory aside. Split into
its ZIP areas, the county is no longer one heavy unit: the job balances every territory, contiguous on the mixed
layer's adjacency.
"""

from __future__ import annotations

import json
import random
import uuid

import numpy as np
import pytest
import shapely
from territory_geodata import approximate_zip_areas, load_us_counties, load_us_states, load_zip_points

from tests.support.auth import auth_headers

from .conftest import upsert, wait_for_job
from .test_design_jobs import contiguous, design, memberships

pytestmark = pytest.mark.postgis

LOS_ANGELES = "06037"
K = 8


def import_layer(client, tenant, name: str, ids, geometries, attributes: dict[str, np.ndarray]) -> str:
    features = [
        {
            "type": "Feature",
            "properties": {"id": str(i), **{a: float(v[n]) for a, v in attributes.items()}},
            "geometry": shapely.geometry.mapping(g),
        }
        for n, (i, g) in enumerate(zip(ids, geometries, strict=True))
    ]
    body = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    r = client.post(
        "/geo/v1/layers",
        headers=tenant,
        files={"file": ("layer.geojson", body)},
        data={"name": name, "id_column": "id", "attributes": ",".join(attributes)},
    )
    assert r.status_code == 202, r.text
    job = wait_for_job(client, tenant, "/geo", r.json()["job_id"])
    assert job["status"] == "succeeded", job
    return job["result"]["layer_id"]


@pytest.fixture(scope="module")
def california(client):
    """California's counties and approximate ZIP areas as layers, a draft of eight latitude bands of counties
    (about equal population each, as far as whole counties allow) and 1,200 accounts placed at ZIP points by
    population."""
    tenant = auth_headers(f"t-{uuid.uuid4().hex[:8]}")
    counties = load_us_counties().in_states("06")
    zips, states = load_zip_points(), load_us_states()
    ca_zips = zips.take(zips.state == "CA")
    areas = approximate_zip_areas(ca_zips, states.take(states.abbr == "CA"))
    # One area per cell (ZIPs sharing a point share a cell), none empty.
    keep, seen = [], set()
    for n, (g, w) in enumerate(zip(areas.geometries, shapely.to_wkb(areas.geometries), strict=True)):
        if not g.is_empty and w not in seen:
            seen.add(w)
            keep.append(n)
    keep_ = np.array(keep)
    county_layer = import_layer(
        client,
        tenant,
        "California counties",
        counties.ids,
        counties.geometries,
        {"population": counties.population.astype(float)},
    )
    zip_layer = import_layer(
        client,
        tenant,
        "California approximate ZIP areas",
        areas.zip[keep_],
        areas.geometries[keep_],
        {"population": ca_zips.population[keep_].astype(float)},
    )

    # Eight bands from north to south, each closed when it reaches an eighth of the population.
    lat = shapely.get_y(shapely.point_on_surface(counties.geometries))
    order = np.argsort(-lat)
    target = counties.population.sum() / K
    band, running, code_of = 0, 0.0, {}
    for n in order:
        code_of[str(counties.ids[n])] = f"T{band + 1}"
        running += float(counties.population[n])
        if running >= target * (band + 1) and band < K - 1:
            band += 1
    alignment = client.post(
        "/geo/v1/alignments", json={"name": "bands", "sales_force": "field", "layer_id": county_layer}, headers=tenant
    ).json()
    rows = "\n".join(f"{u},{c}" for u, c in code_of.items())
    r = client.put(
        f"/geo/v1/alignments/{alignment['id']}/assignments.csv",
        content=("unit_id,territory_code\n" + rows).encode(),
        headers={**tenant, "If-Match": f'"{alignment["version"]}"'},
    )
    assert r.status_code == 200, r.text

    rng = random.Random(5)
    weights = np.maximum(ca_zips.population.astype(float), 1.0)
    picks = rng.choices(range(len(ca_zips)), weights=weights.tolist(), k=1_200)
    accounts = [
        {
            "external_id": f"ca{n}",
            "lon": float(ca_zips.lon[z]),
            "lat": float(ca_zips.lat[z]),
            "potential": rng.randint(1, 100),
        }
        for n, z in enumerate(picks)
    ]
    assert upsert(client, tenant, accounts).status_code == 200
    return {
        "tenant": tenant,
        "counties": county_layer,
        "zips": zip_layer,
        "alignment": alignment["id"],
        "la_code": code_of[LOS_ANGELES],
    }


METRICS = [{"metric": "account_potential", "tolerance": 0.10}]


def test_on_counties_the_territory_holding_los_angeles_is_set_aside(client, california):
    job = design(client, california["tenant"], alignment_id=california["alignment"], metrics=METRICS, time_limit_s=10)
    assert job["status"] == "succeeded", job
    result = job["result"]
    assert california["la_code"] in result["set_aside"]["territories"]
    assert LOS_ANGELES in result["set_aside"]["units"]


def test_split_into_zip_areas_the_optimizer_balances_every_territory_contiguously(client, california):
    tenant = california["tenant"]
    alignment = client.get(f"/geo/v1/alignments/{california['alignment']}", headers=tenant).json()
    r = client.post(
        f"/geo/v1/alignments/{alignment['id']}/split",
        json={"unit_ids": [LOS_ANGELES], "into_layer": california["zips"]},
        headers={**tenant, "If-Match": f'"{alignment["version"]}"'},
    )
    assert r.status_code == 200, r.text
    split = r.json()
    mixed = split["layer_id"]
    pieces = split["pieces"][LOS_ANGELES]
    assert len(pieces) > 200 and all(p.startswith("zip:9") for p in pieces)
    started = memberships(client, tenant, alignment["id"])
    assert {started[p] for p in pieces} == {california["la_code"]} and LOS_ANGELES not in started

    job = design(client, tenant, alignment_id=alignment["id"], metrics=METRICS, time_limit_s=20, seed=3)
    assert job["status"] == "succeeded", job
    result = job["result"]
    assert result["layer_id"] == mixed
    # Los Angeles is no longer one unit too heavy for a territory: nothing is set aside.
    assert result["set_aside"]["territories"] == [] and result["set_aside"]["units"] == []
    assert result["against_source"]["balanceable_territories"] == K
    # Balance is reported, and honest: balanced only within the tolerance.
    potential = next(m for m in result["metrics"] if m["metric"] == "account_potential")
    assert len(potential["values"]) == K and potential["max_deviation_pct"] is not None
    assert result["balanced"] == (potential["max_deviation_pct"] <= 10.0 + 1e-6)
    reported = result["against_source"]["metrics"][0]
    assert reported["plan_max_deviation_pct"] <= reported["source_max_deviation_pct"]
    # Every territory is contiguous on the mixed layer's adjacency (counties and ZIP pieces together; Catalina's
    # pieces are linked to the mainland as an import links islands).
    plan = memberships(client, tenant, result["draft_alignment_id"])
    assert set(plan) == set(started)
    assert result["contiguous"] and contiguous(client, tenant, mixed, plan)
