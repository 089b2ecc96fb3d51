"""assignment-service at scale, distributed (PostGIS + Kafka, separate processes): four figures.

1. upsert: N accounts streamed as NDJSON in requests of 100,000 -> rows/s, and the API process's peak memory;
2. full assignment: an alignment of US counties (us-atlas; one territory per state) is published for a new sales
   force -> time until every account is located and assigned (the realignment run completes);
3. realignment: a copy that moves the counties holding ~10% of the accounts to another territory is published
   -> time from the publish request until the run's notice is on the Kafka topic (after every reassigned
   event, which the outbox sends first); target < 60 s for 1,000,000 accounts;
4. latency: one account moved to another county, from the request until its new owner is visible; p50/p99.

    uv run python benchmarks/assignment_scale.py [--accounts 1000000] [--samples 200]

Accounts are territory_geodata's synthetic ones (real ZIP points, weighted by population, fixed seed).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from territory_geodata.accounts import synthesize_accounts  # noqa: E402
from territory_geodata.counties import load_us_counties  # noqa: E402
from territory_geodata.files import write_geojson  # noqa: E402
from territory_geodata.zips import load_zip_points  # noqa: E402

import conftest  # noqa: E402, F401 - the services started trust the tokens tests.support.auth signs
from tests.e2e.test_assignment_realignment import DistributedAssignmentPlatform  # noqa: E402
from tests.support.auth import auth_headers  # noqa: E402
from tests.support.databases import fetch_all  # noqa: E402
from tests.support.processes import eventually  # noqa: E402

REQUEST_ROWS = 100_000


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def ndjson(accounts, start: int, end: int) -> Iterator[bytes]:  # type: ignore[no-untyped-def]
    chunk: list[str] = []
    for i in range(start, end):
        chunk.append(
            json.dumps(
                {
                    "external_id": str(accounts.external_id[i]),
                    "name": str(accounts.name[i]),
                    "lat": float(accounts.lat[i]),
                    "lon": float(accounts.lon[i]),
                    "zip": str(accounts.zip[i]),
                    "industry": str(accounts.industry[i]),
                    "size": str(accounts.size_class[i]),
                    "potential": int(accounts.potential[i]),
                    "revenue": int(accounts.revenue[i]),
                    "visits_per_year": int(accounts.visits_per_year[i]),
                    "workload_hours": float(accounts.workload_hours[i]),
                }
            )
        )
        if len(chunk) == 5_000:
            yield ("\n".join(chunk) + "\n").encode()
            chunk = []
    if chunk:
        yield ("\n".join(chunk) + "\n").encode()


def wait_job(client: httpx.Client, job_id: str) -> dict:
    return eventually(
        lambda: (j := client.get(f"/v1/jobs/{job_id}").json())["status"] in ("succeeded", "failed") and j,
        deadline_s=1800,
        interval_s=0.5,
    )


def wait_run(assignment: httpx.Client, alignment_id: str, deadline_s: float = 3600) -> dict:
    return eventually(
        lambda: next(
            (
                r
                for r in assignment.get("/v1/realignments").json()
                if r["alignment_id"] == alignment_id and r["status"] == "completed"
            ),
            None,
        ),
        deadline_s=deadline_s,
        interval_s=0.2,
    )


def outbox_drained(db: str) -> bool:
    return fetch_all(db, "SELECT count(*) AS n FROM outbox WHERE published_at IS NULL")[0]["n"] == 0


def alignment_from_csv(geo: httpx.Client, layer: str, rows: list[tuple[str, str]], sales_force: str) -> str:
    a = geo.post("/v1/alignments", json={"name": "bench", "sales_force": sales_force, "layer_id": layer}).json()
    body = "unit_id,territory_code\n" + "".join(f"{u},{t}\n" for u, t in rows)
    r = geo.put(f"/v1/alignments/{a['id']}/assignments.csv", content=body, headers={"content-type": "text/csv"})
    assert r.status_code == 200, r.text
    return a["id"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    n = args.accounts
    print(f"synthesizing {n:,} accounts ...", flush=True)
    counties = load_us_counties()
    accounts = synthesize_accounts(load_zip_points(), counties, n=n, seed=7)

    work = Path(tempfile.mkdtemp(prefix="assignment-bench-"))
    platform = DistributedAssignmentPlatform(work)
    tenant = auth_headers(f"bench-{uuid.uuid4().hex[:6]}")
    try:
        platform.start()
        geo = httpx.Client(base_url=platform.geo_url, headers=tenant, timeout=3600)
        assignment = httpx.Client(base_url=platform.assignment_url, headers=tenant, timeout=3600)

        # 1. upsert
        started = time.perf_counter()
        for start in range(0, n, REQUEST_ROWS):
            r = assignment.post(
                "/v1/accounts/bulk",
                content=ndjson(accounts, start, min(n, start + REQUEST_ROWS)),
                headers={"content-type": "application/x-ndjson", "Idempotency-Key": f"load-{start}"},
            )
            assert r.status_code == 200 and r.json()["rejected"] == 0, r.text[:500]
        upsert_s = time.perf_counter() - started
        assert platform.assignment_api.proc is not None
        print(
            f"upsert: {n:,} accounts in {upsert_s:.1f} s = {n / upsert_s:,.0f} rows/s; "
            f"API peak RSS {peak_rss_mb(platform.assignment_api.proc.pid):,.0f} MB",
            flush=True,
        )
        eventually(lambda: outbox_drained(platform.assignment_db), deadline_s=3600, interval_s=1)
        print(f"  (outbox of {n:,} upserted events on Kafka {time.perf_counter() - started:.1f} s after start)")

        # 2. full assignment against US counties (publish for a new sales force)
        path = work / "us-counties.geojson"
        write_geojson(path, counties.ids, {"fips": counties.ids}, counties.geometries)
        r = geo.post(
            "/v1/layers",
            files={"file": (path.name, path.read_bytes())},
            data={"name": "US counties", "id_column": "fips", "repair": "true"},
        )
        job = wait_job(geo, r.json()["job_id"])
        assert job["status"] == "succeeded", job
        layer = job["result"]["layer_id"]
        by_state = [(str(f), f"ST-{s}") for f, s in zip(counties.ids, counties.state_abbr, strict=True)]
        first = alignment_from_csv(geo, layer, by_state, "field")
        started = time.perf_counter()
        assert geo.post(f"/v1/alignments/{first}/publish").status_code == 200
        run = wait_run(assignment, first)
        full_s = time.perf_counter() - started
        print(
            f"full assignment: {n:,} accounts against {len(counties):,} counties in {full_s:.1f} s "
            f"({n / full_s:,.0f} accounts/s), mode {run['mode']}",
            flush=True,
        )
        eventually(lambda: outbox_drained(platform.assignment_db), deadline_s=3600, interval_s=1)

        # 3. realignment moving ~10% of the accounts
        per_county = {c: k for c, k in zip(*np.unique(accounts.county_fips, return_counts=True), strict=True)}
        rng = np.random.default_rng(1)
        order = rng.permutation(len(counties))
        codes = sorted({t for _, t in by_state})
        moved_counties, moved_accounts = set(), 0
        for i in order:
            if moved_accounts >= n // 10:
                break
            moved_counties.add(str(counties.ids[i]))
            moved_accounts += int(per_county.get(counties.ids[i], 0))
        second_rows = [(u, codes[(codes.index(t) + 1) % len(codes)] if u in moved_counties else t) for u, t in by_state]
        second = alignment_from_csv(geo, layer, second_rows, "field")
        seen_before = {x["data"]["run_id"] for x in platform.notices()}
        started = time.perf_counter()
        assert geo.post(f"/v1/alignments/{second}/publish").status_code == 200
        run = wait_run(assignment, second)
        applied_s = time.perf_counter() - started
        eventually(
            lambda: run["id"] in {x["data"]["run_id"] for x in platform.notices()} - seen_before,
            deadline_s=1800,
            interval_s=0.2,
        )
        notice_s = time.perf_counter() - started
        print(
            f"realignment: {run['accounts_moved']:,} accounts moved ({len(moved_counties)} counties), "
            f"run applied {applied_s:.1f} s, notice on the topic {notice_s:.1f} s after publish",
            flush=True,
        )

        # 4. latency of one account update until its new owner is visible
        latencies = []
        for k in range(args.samples):
            i = int(rng.integers(n))
            j = int(rng.integers(n))
            ext = str(accounts.external_id[i])
            body = {"external_id": ext, "lat": float(accounts.lat[j]) + 1e-6 * (k + 1), "lon": float(accounts.lon[j])}
            t0 = time.perf_counter()
            r = assignment.post("/v1/accounts/bulk", json=[body])
            assert r.status_code == 200, r.text
            owner = assignment.get("/v1/sales-forces/field/owner", params={"account": ext}).json()
            assert owner["unit_id"] == str(accounts.county_fips[j]) or owner["unit_id"] is None
            latencies.append(time.perf_counter() - t0)
        latencies.sort()
        p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
        print(
            f"update latency: p50 {statistics.median(latencies) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms "
            f"over {len(latencies)} updates",
            flush=True,
        )
    finally:
        platform.close()


if __name__ == "__main__":
    main()
