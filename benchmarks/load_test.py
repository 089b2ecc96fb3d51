"""Load test: location and account lookups together with account bulk upserts, for a bounded time.

    uv run python benchmarks/load_test.py [--duration 120] [--url http://127.0.0.1:8000] [--token TOKEN]

Without ``--url`` it starts the embedded platform (``territory-embedded --no-demo``) on a free port with a
throwaway data folder. Either way it sets up a tenant of its own through the public APIs: North Carolina's
100 counties (libpysal's ``sids2``) as a layer and a published alignment of four territories. Then, until the
duration is over, lookup workers ask geo-service who owns a point (``GET /geo/v1/locate``) and
assignment-service who owns a location or an account (``GET /assignment/v1/sales-forces/field/owner``), while
upsert workers push batches of accounts (``POST /assignment/v1/accounts/bulk``, new and changed ones).

Prints requests/s, p50/p99 latency per operation and the error count (any status >= 400 or failed request);
exits 1 when there was an error. ``--geo-url`` / ``--assignment-url`` point at a distributed platform's
services. Credentials: ``--token`` (a bearer token), else the embedded admin token file when the platform
writes one, else the test suite's own credentials for the tenant.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NC = (-84.3, 33.9, -75.5, 36.55)  # lon/lat box around North Carolina


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)

    def record(self, op: str, seconds: float, error: str | None) -> None:
        self.latencies.setdefault(op, []).append(seconds)
        if error is not None:
            self.errors[op] = self.errors.get(op, 0) + 1
            if len(self.samples) < 5:
                self.samples.append(f"{op}: {error}")

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def credentials(tenant: str, token: str | None, data_dir: Path | None) -> dict[str, str]:
    if token:
        return {"Authorization": f"Bearer {token}"}
    for name in ("admin-token", "admin.token", "admin-token.txt"):
        if data_dir is not None and (data_dir / name).is_file():
            return {"Authorization": f"Bearer {(data_dir / name).read_text().strip()}"}
    from tests.support.auth import auth_headers

    return auth_headers(tenant)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_embedded(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log = (data_dir / "embedded.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "territory_embedded.cli", "--port", str(port), "--data-dir", str(data_dir), "--no-demo"],
        stdout=log,
        stderr=log,
        env={**os.environ, "LOG_LEVEL": "WARNING"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the embedded platform exited; see {data_dir / 'embedded.log'}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.terminate()
    raise TimeoutError("the embedded platform did not start within 300 s")


def nc_counties_zip(folder: Path) -> bytes:
    import libpysal

    shp = Path(libpysal.examples.get_path("sids2.shp"))
    out = folder / "sids2.zip"
    with zipfile.ZipFile(out, "w") as z:
        for suffix in (".shp", ".shx", ".dbf"):
            z.write(shp.with_suffix(suffix), f"sids2{suffix}")
    return out.read_bytes()


async def wait_for(check, what: str, deadline_s: float = 300):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.2)
    raise TimeoutError(f"{what} not done within {deadline_s} s")


async def set_up(geo: httpx.AsyncClient, assignment: httpx.AsyncClient, folder: Path) -> None:
    """The tenant's layer and published alignment, and assignment-service's first realignment run."""
    r = await geo.post(
        "/v1/layers",
        files={"file": ("sids2.zip", nc_counties_zip(folder))},
        data={"name": "NC", "id_column": "FIPS", "attributes": "BIR74"},
    )
    r.raise_for_status()
    job_id = r.json()["job_id"]

    async def imported():  # type: ignore[no-untyped-def]
        job = (await geo.get(f"/v1/jobs/{job_id}")).json()
        return job if job["status"] in ("succeeded", "failed") else None

    job = await wait_for(imported, "layer import")
    if job["status"] != "succeeded":
        raise RuntimeError(f"layer import failed: {job}")
    layer = job["result"]["layer_id"]
    units = sorted(u["unit_id"] for u in (await geo.get(f"/v1/layers/{layer}/units")).json().get("items", []))
    a = (await geo.post("/v1/alignments", json={"name": "load", "sales_force": "field", "layer_id": layer})).json()
    version = a["version"]
    for i, code in enumerate(("T1", "T2", "T3", "T4")):
        t = (await geo.post("/v1/territories", json={"code": code, "name": code, "alignment_id": a["id"]})).json()
        m = await geo.post(
            f"/v1/alignments/{a['id']}/moves",
            json={"unit_ids": units[i::4], "territory_id": t["id"]},
            headers={"If-Match": f'"{version}"'},
        )
        m.raise_for_status()
        version = m.json()["alignment"]["version"]
    (await geo.post(f"/v1/alignments/{a['id']}/publish")).raise_for_status()

    async def realigned():  # type: ignore[no-untyped-def]
        runs = (await assignment.get("/v1/realignments")).json()
        return any(r["alignment_id"] == a["id"] and r["status"] == "completed" for r in runs)

    await wait_for(realigned, "first realignment run")


async def run_load(
    geo: httpx.AsyncClient,
    assignment: httpx.AsyncClient,
    duration_s: float,
    lookup_workers: int,
    upsert_workers: int,
    batch: int,
) -> tuple[Stats, float]:
    stats = Stats()
    stop_at = time.monotonic() + duration_s
    known: list[str] = []
    pool = 20_000

    def point(rnd: random.Random) -> tuple[float, float]:
        return rnd.uniform(NC[0], NC[2]), rnd.uniform(NC[1], NC[3])

    async def timed(op: str, request) -> httpx.Response | None:  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            r = await request
        except httpx.HTTPError as exc:
            stats.record(op, time.perf_counter() - started, f"{type(exc).__name__}: {exc}")
            return None
        stats.record(
            op, time.perf_counter() - started, None if r.status_code < 400 else f"{r.status_code} {r.text[:200]}"
        )
        return r

    async def lookups(seed: int) -> None:
        rnd = random.Random(seed)
        while time.monotonic() < stop_at:
            lon, lat = point(rnd)
            choice = rnd.random()
            if choice < 0.5:
                await timed("locate", geo.get("/v1/locate", params={"lon": lon, "lat": lat, "sales_force": "field"}))
            elif choice < 0.75 or not known:
                await timed(
                    "owner_of_location", assignment.get("/v1/sales-forces/field/owner", params={"lon": lon, "lat": lat})
                )
            else:
                account = rnd.choice(known)
                await timed(
                    "owner_of_account", assignment.get("/v1/sales-forces/field/owner", params={"account": account})
                )

    async def upserts(seed: int) -> None:
        rnd = random.Random(seed)
        while time.monotonic() < stop_at:
            rows = []
            for i in rnd.sample(range(pool), batch):
                lon, lat = point(rnd)
                rows.append(
                    {
                        "external_id": f"load-{i}",
                        "lon": round(lon, 5),
                        "lat": round(lat, 5),
                        "potential": rnd.randint(1, 1000),
                    }
                )
            body = "\n".join(json.dumps(r) for r in rows).encode()
            r = await timed(
                "bulk_upsert",
                assignment.post("/v1/accounts/bulk", content=body, headers={"content-type": "application/x-ndjson"}),
            )
            if r is not None and r.status_code == 200:
                known.extend(row["external_id"] for row in rows[:10])

    started = time.monotonic()
    await asyncio.gather(
        *(lookups(i) for i in range(lookup_workers)), *(upserts(1000 + i) for i in range(upsert_workers))
    )
    return stats, time.monotonic() - started


def report(stats: Stats, elapsed: float, batch: int) -> str:
    lines = [f"{'operation':<20} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"]
    total = 0
    for op in sorted(stats.latencies):
        values = stats.latencies[op]
        total += len(values)
        lines.append(
            f"{op:<20} {len(values):>9,} {len(values) / elapsed:>8.1f} {percentile(values, 0.5) * 1000:>8.1f} "
            f"{percentile(values, 0.99) * 1000:>8.1f} {stats.errors.get(op, 0):>7}"
        )
    upserted = len(stats.latencies.get("bulk_upsert", [])) * batch
    lines.append(f"{'all':<20} {total:>9,} {total / elapsed:>8.1f} {'':>8} {'':>8} {stats.error_count:>7}")
    lines.append(f"{elapsed:.1f} s; {upserted:,} account rows upserted ({upserted / elapsed:,.0f} rows/s)")
    lines += [f"error sample: {s}" for s in stats.samples]
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> int:
    proc = None
    with tempfile.TemporaryDirectory(prefix="territory-load-") as tmp:
        folder = Path(tmp)
        data_dir: Path | None = None
        url = args.url
        if url is None and not (args.geo_url and args.assignment_url):
            data_dir = folder / "data"
            data_dir.mkdir()
            proc, url = start_embedded(data_dir)
        try:
            tenant = args.tenant or f"load-{uuid.uuid4().hex[:8]}"
            headers = credentials(tenant, args.token, data_dir)
            limits = httpx.Limits(max_connections=args.lookup_workers + args.upsert_workers + 4)
            geo_url = args.geo_url or f"{url}/geo"
            assignment_url = args.assignment_url or f"{url}/assignment"
            async with (
                httpx.AsyncClient(base_url=geo_url, headers=headers, timeout=120, limits=limits) as geo,
                httpx.AsyncClient(base_url=assignment_url, headers=headers, timeout=120, limits=limits) as assignment,
            ):
                t0 = time.monotonic()
                await set_up(geo, assignment, folder)
                print(f"set up tenant {tenant} in {time.monotonic() - t0:.1f} s; loading for {args.duration:.0f} s ...")
                stats, elapsed = await run_load(
                    geo, assignment, args.duration, args.lookup_workers, args.upsert_workers, args.batch
                )
            print(report(stats, elapsed, args.batch))
            return 1 if stats.error_count else 0
        finally:
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=120, help="seconds of load (default 120)")
    parser.add_argument("--url", help="a running embedded platform (default: start one)")
    parser.add_argument("--geo-url", help="geo-service of a distributed platform")
    parser.add_argument("--assignment-url", help="assignment-service of a distributed platform")
    parser.add_argument("--token", help="bearer token to present")
    parser.add_argument("--tenant", help="tenant to set up and load (default: a new one)")
    parser.add_argument("--lookup-workers", type=int, default=8)
    parser.add_argument("--upsert-workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=200, help="accounts per bulk upsert")
    return asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
