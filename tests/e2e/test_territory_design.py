"""Territory design end to end: accounts pushed over HTTP, the optimizer run as a job in assignment-service with
progress, its plan written as a draft in geo-service, and metrics-service (which learns of the draft and of the
accounts only through events) confirming the balance the optimizer reported, territory by territory.

Both platforms: distributed (separate processes on PostGIS and Kafka) and embedded (one process, SQLite, the
in-process bus). The layer is North Carolina's 100 real counties; 1,500 accounts are placed by births.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.test_assignment_realignment import (
    DistributedAssignmentPlatform,
    EmbeddedAssignmentPlatform,
    Platform,
    import_nc,
)
from tests.support.auth import auth_headers
from tests.support.processes import eventually, wait_ready

K = 6
METRICS = [{"metric": "account_potential", "tolerance": 0.05}, {"metric": "account_count", "tolerance": 0.10}]


class SlowStartEmbeddedPlatform(EmbeddedAssignmentPlatform):
    def start(self) -> None:
        self.process.start()
        # Like the distributed platform: a loaded CI machine may take more than a minute to import everything.
        wait_ready(f"{self.base_url}/healthz", self.process, deadline_s=600)


@pytest.fixture(scope="module", params=["kafka", "embedded"])
def platform(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    workdir = tmp_path_factory.mktemp(f"design-{request.param}")
    p = DistributedAssignmentPlatform(workdir) if request.param == "kafka" else SlowStartEmbeddedPlatform(workdir)
    try:
        p.start()
        yield p
    finally:
        p.close()


def accounts_by_births(units: list[dict], n: int) -> list[dict]:
    rng = random.Random(2027)
    weights = [max(1.0, float(u["attributes"].get("BIR74") or 0)) for u in units]
    out = []
    for i, u in enumerate(rng.choices(units, weights=weights, k=n)):
        lon, lat = u["centroid"]
        out.append(
            {
                "external_id": f"acct-{i:05d}",
                "lon": lon,
                "lat": lat,
                "potential": round(rng.lognormvariate(8, 1)),
                "visits_per_year": rng.randint(2, 24),
            }
        )
    return out


@pytest.mark.timeout(900)
def test_an_optimized_draft_is_balanced_as_metrics_service_measures_it(platform: Platform, tmp_path):
    tenant = f"e2e-{uuid.uuid4().hex[:10]}"
    headers = auth_headers(tenant)
    with (
        httpx.Client(base_url=platform.geo_url, headers=headers, timeout=60) as geo,
        httpx.Client(base_url=platform.assignment_url, headers=headers, timeout=60) as assignment,
        httpx.Client(base_url=platform.metrics_url, headers=headers, timeout=60) as metrics,
    ):
        layer = import_nc(geo, tmp_path)
        units = geo.get(f"/v1/layers/{layer}/units?limit=1000").json()["items"]
        source = geo.post("/v1/alignments", json={"name": "start", "sales_force": "field", "layer_id": layer}).json()
        rows = "\n".join(f"{u['unit_id']},{'EAST' if u['centroid'][0] > -79.5 else 'WEST'}" for u in units)
        r = geo.put(
            f"/v1/alignments/{source['id']}/assignments.csv",
            content=f"unit_id,territory_code\n{rows}".encode(),
            headers={"If-Match": f'"{source["version"]}"'},
        )
        assert r.status_code == 200, r.text
        accounts = accounts_by_births(units, 1500)
        r = assignment.post("/v1/accounts/bulk", json=accounts)
        assert r.status_code == 200 and r.json()["created"] == 1500, r.text

        r = assignment.post(
            "/v1/design-jobs",
            json={"alignment_id": source["id"], "k": K, "metrics": METRICS, "time_limit_s": 60, "seed": 11},
        )
        assert r.status_code == 202, r.text
        job_id = r.json()["job_id"]
        seen: list[dict] = []

        def finished() -> dict | None:
            job = assignment.get(f"/v1/jobs/{job_id}").json()
            seen.append(job)
            return job if job["status"] in ("succeeded", "failed", "cancelled", "interrupted") else None

        started = time.monotonic()
        job = eventually(finished, deadline_s=300, interval_s=0.1, message="design job finished")
        assert job["status"] == "succeeded", job
        progress = [(j["stage"], j["percent"]) for j in seen]
        assert job["percent"] == 100.0
        assert any(s.startswith("optimizing") and 0 < p < 100 for s, p in progress), progress
        best = [
            j["result"]["progress"]["best_max_deviation_pct"] for j in seen if j["status"] == "running" and j["result"]
        ]
        result = job["result"]
        print(
            f"\n{platform.mode}: optimizer {result['elapsed_s']} s ({time.monotonic() - started:.1f} s job), "
            f"{len(seen)} polls, best-so-far {best[:3]}...{best[-3:]}; "
            + ", ".join(f"{m['metric']} max dev {m['max_deviation_pct']:.2f}%" for m in result["metrics"])
            + f"; mean Polsby-Popper {result['mean_polsby_popper']:.3f}; feasible {result['feasible']}"
        )
        assert result["contiguous"] and result["k"] == K
        draft_id, version = result["draft_alignment_id"], result["draft_version"]

        # metrics-service hears of the draft and the accounts through events only; wait until it has both.
        def caught_up() -> list[dict] | None:
            known = {a["alignment_id"]: a["version"] for a in metrics.get("/v1/alignments").json()}
            if known.get(draft_id, -1) < version:
                return None
            reports = metrics.get(
                f"/v1/alignments/{draft_id}/balance",
                params={"metric": [m["metric"] for m in METRICS], "tolerance": 0.05},
            )
            if reports.status_code != 200:
                return None
            body = reports.json()
            count = next(b for b in body if b["metric"] == "account_count")
            located = result["accounts"]["located"]
            return body if sum(t["value"] for t in count["territories"]) == located else None

        reports = eventually(caught_up, deadline_s=120, message="metrics-service has the draft and the accounts")
        for reported in result["metrics"]:
            measured = next(b for b in reports if b["metric"] == reported["metric"])
            values = {t["code"]: t["value"] for t in measured["territories"]}
            assert values == pytest.approx(reported["values"], rel=1e-9), reported["metric"]
            assert measured["target"] == pytest.approx(reported["target"], rel=1e-9)
            assert measured["max_deviation_pct"] == pytest.approx(reported["max_deviation_pct"], abs=1e-3)
            # Balanced as claimed, and only when it is.
            tolerance_pct = reported["tolerance"] * 100
            assert reported["within_tolerance"] == (measured["max_deviation_pct"] <= tolerance_pct + 1e-6)
        # Every territory in one piece on geo-service's adjacency graph (islands linked to their nearest county).
        edges = geo.get(f"/v1/layers/{layer}/adjacency").json()["edges"]
        territory = {m["unit_id"]: m["territory_id"] for m in geo.get(f"/v1/alignments/{draft_id}/units").json()}
        assert len(set(territory.values())) == K and None not in territory.values()
        assert all(pieces == 1 for pieces in _pieces(territory, edges).values())
        assert result["balanced"] == all(m["within_tolerance"] for m in result["metrics"])


def _pieces(territory: dict[str, str], edges: list[list[str]]) -> dict[str, int]:
    parent = {u: u for u in territory}

    def root(u: str) -> str:
        while parent[u] != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        return u

    for a, b in edges:
        if territory[a] == territory[b]:
            parent[root(a)] = root(b)
    out: dict[str, int] = {}
    for u in territory:
        if root(u) == u:
            out[territory[u]] = out.get(territory[u], 0) + 1
    return out
