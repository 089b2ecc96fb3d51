"""Territory design jobs on North Carolina's real counties: the optimizer's plan becomes a new draft in geo-service,
with its real figures; locks, disruption limits and contiguity hold; bad input is refused; a job can be cancelled.

Infeasible requests are a success with ``feasible: false`` and the reasons (the best plan found is still written as
a draft to look at); a request the optimizer cannot even read fails the job with the reason.
"""

from __future__ import annotations

import random
import uuid

import numpy as np
import pytest
from territory_shared.geometry.adjacency import components

from tests.support.auth import auth_headers

from .conftest import upsert, wait_for_job
from .geography import import_nc

pytestmark = pytest.mark.postgis

# Four territories of North Carolina by longitude: the mountains to the coast.
BANDS = {"WEST": (-200, -81.0), "PIEDMONT": (-81.0, -79.5), "TRIANGLE": (-79.5, -78.0), "COAST": (-78.0, 200)}


@pytest.fixture(scope="module")
def nc(client, tmp_path_factory):
    """A tenant of its own: NC counties, a four-territory draft by longitude, 400 accounts placed by population."""
    tenant = auth_headers(f"t-{uuid.uuid4().hex[:8]}")
    layer = import_nc(client, tenant, tmp_path_factory.mktemp("nc"))
    units = client.get(f"/geo/v1/layers/{layer}/units?limit=1000", headers=tenant).json()["items"]
    alignment = client.post(
        "/geo/v1/alignments", json={"name": "bands", "sales_force": "field", "layer_id": layer}, headers=tenant
    ).json()
    rows = []
    for u in units:
        code = next(c for c, (w, e) in BANDS.items() if w <= u["centroid"][0] < e)
        rows.append(f"{u['unit_id']},{code}")
    r = client.put(
        f"/geo/v1/alignments/{alignment['id']}/assignments.csv",
        content=("unit_id,territory_code\n" + "\n".join(rows)).encode(),
        headers={**tenant, "If-Match": f'"{alignment["version"]}"'},
    )
    assert r.status_code == 200, r.text
    rng = random.Random(7)
    weights = [max(1.0, float(u["attributes"].get("BIR74") or 0)) for u in units]
    accounts = []
    for i, u in enumerate(rng.choices(units, weights=weights, k=400)):
        lon, lat = u["centroid"]
        accounts.append(
            {"external_id": f"a{i}", "lon": lon, "lat": lat, "potential": rng.randint(1, 100), "workload_hours": 10}
        )
    assert upsert(client, tenant, accounts).status_code == 200
    return {"tenant": tenant, "layer": layer, "alignment": alignment["id"], "units": units, "accounts": accounts}


def design(client, tenant, **body):
    r = client.post("/v1/design-jobs", json=body, headers=tenant)
    assert r.status_code == 202, r.text
    return wait_for_job(client, tenant, "", r.json()["job_id"])


def memberships(client, tenant, alignment_id) -> dict[str, str | None]:
    codes = {
        t["id"]: t["code"]
        for t in client.get(f"/geo/v1/territories?alignment_id={alignment_id}&limit=1000", headers=tenant).json()[
            "items"
        ]
    }
    rows = client.get(f"/geo/v1/alignments/{alignment_id}/units", headers=tenant).json()
    return {r["unit_id"]: codes.get(r["territory_id"]) for r in rows}


def contiguous(client, tenant, layer, plan: dict[str, str | None]) -> bool:
    edges = client.get(f"/geo/v1/layers/{layer}/adjacency", headers=tenant).json()["edges"]
    for code in set(plan.values()):
        members = sorted(u for u, c in plan.items() if c == code)
        index = {u: i for i, u in enumerate(members)}
        inside = [(index[a], index[b]) for a, b in edges if a in index and b in index]
        if int(components(len(members), np.array(inside, dtype=np.int64).reshape(-1, 2)).max()) != 0:
            return False
    return True


def test_a_design_job_writes_a_draft_whose_memberships_are_the_plan_with_its_real_figures(client, nc):
    tenant = nc["tenant"]
    job = design(
        client,
        tenant,
        alignment_id=nc["alignment"],
        metrics=[{"metric": "account_potential", "tolerance": 0.05}, {"metric": "account_count", "tolerance": 0.1}],
        time_limit_s=20,
        seed=3,
    )
    assert job["status"] == "succeeded", job
    result = job["result"]
    draft_id = result["draft_alignment_id"]
    draft = client.get(f"/geo/v1/alignments/{draft_id}", headers=tenant).json()
    assert draft["state"] == "draft" and draft["copied_from"] == nc["alignment"]
    plan = memberships(client, tenant, draft_id)
    assert set(plan.values()) == set(BANDS)
    assert result["k"] == 4 and result["contiguous"] and contiguous(client, tenant, nc["layer"], plan)
    # The figures are the draft's: per territory, the accounts in its units.
    per_code = {t["code"]: t for t in result["territories"]}
    assert {c: t["unit_count"] for c, t in per_code.items()} == {c: list(plan.values()).count(c) for c in BANDS}
    potential = next(m for m in result["metrics"] if m["metric"] == "account_potential")
    assert potential["values"] == pytest.approx(_potentials(client, tenant, draft_id, nc["accounts"]))
    # Honest: balanced only when within the tolerance, and then no violation.
    assert result["balanced"] == (potential["max_deviation_pct"] <= 5.0 + 1e-6 and _count_ok(result))
    assert result["feasible"] == (not result["violations"])
    assert result["mean_polsby_popper"] > 0
    assert result["units_moved"] == sum(
        1 for u, c in plan.items() if c != memberships(client, tenant, nc["alignment"])[u]
    )


def _count_ok(result) -> bool:
    return next(m for m in result["metrics"] if m["metric"] == "account_count")["within_tolerance"]


def _potentials(client, tenant, alignment_id: str, accounts: list[dict]) -> dict[str, float]:
    """Each territory's potential, from geo-service's own lookup of where each account lies in the draft."""
    points = [{"id": a["external_id"], "lon": a["lon"], "lat": a["lat"]} for a in accounts]
    r = client.post(f"/geo/v1/locate?alignment_id={alignment_id}", json={"points": points}, headers=tenant)
    assert r.status_code == 200, r.text
    potential = {a["external_id"]: a["potential"] for a in accounts}
    out: dict[str, float] = {}
    for row in r.json()["results"]:
        if row["territory_code"]:
            out[row["territory_code"]] = out.get(row["territory_code"], 0.0) + potential[row["id"]]
    return out
