"""The demo: real US counties, a published starting alignment (and, once served, accounts and reps),
loaded through the services' public HTTP APIs, the same path a user's data takes.

Built by ``territory_geodata`` (cached) and loaded once per data folder: a marker file records what
was loaded, so a second ``make run`` starts at once.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import time
from pathlib import Path
from typing import Any

import httpx
import shapely
import shapely.geometry
from fastapi import FastAPI

log = logging.getLogger(__name__)

TENANT = "demo"
SALES_FORCE = "field"
MARKER = "demo-loaded.json"
ACCOUNTS_MARKER = "demo-accounts-loaded.json"
ACCOUNT_CHUNK = 10_000
# The accounts CSV's columns that assignment-service takes, with its names.
ACCOUNT_COLUMNS = {
    "external_id": "external_id",
    "name": "name",
    "lat": "lat",
    "lon": "lon",
    "zip": "zip",
    "industry": "industry",
    "size_class": "size",
    "potential": "potential",
    "revenue": "revenue",
    "visits_per_year": "visits_per_year",
    "workload_hours": "workload_hours",
}


class DemoLoadFailed(Exception):
    pass


async def load_demo(
    app: FastAPI, data_dir: Path, token: str, accounts: int = 50_000, reps: int = 100
) -> dict[str, Any]:
    """``token``: the local admin's, for tenant demo; the demo goes through the same checks as any caller."""
    marker = data_dir / MARKER
    if await asyncio.to_thread(marker.exists):
        loaded = json.loads(await asyncio.to_thread(marker.read_text))
        await load_demo_accounts(app, data_dir, token, Path(loaded["source"]), loaded["alignment_id"])
        return loaded
    started = time.perf_counter()
    from territory_geodata.demo import build_demo  # imported here: only the demo needs the data builder

    build = await asyncio.to_thread(build_demo, None, accounts, reps)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://embedded", headers={"Authorization": f"Bearer {token}"}, timeout=300
    ) as client:
        layer_id = await _import_counties(client, build.path("counties.geojson"))
        alignment = await _starting_alignment(
            client, layer_id, build.path("territories.csv"), build.path("alignment.csv")
        )
    loaded = {
        "tenant": TENANT,
        "sales_force": SALES_FORCE,
        "layer_id": layer_id,
        "alignment_id": alignment,
        "source": str(build.out_dir),
        "seconds": round(time.perf_counter() - started, 1),
    }
    await asyncio.to_thread(marker.write_text, json.dumps(loaded, indent=2))
    log.info("demo loaded in %.1f s: tenant %s, layer %s, alignment %s", loaded["seconds"], TENANT, layer_id, alignment)
    await load_demo_accounts(app, data_dir, token, build.out_dir, alignment)
    return loaded


async def load_demo_accounts(app: FastAPI, data_dir: Path, token: str, source: Path, alignment_id: str) -> None:
    """Reps, one per territory (the nearest to it), and the accounts, through assignment-service's API.

    Runs after the map's territories are in place; upserts are idempotent, so an interrupted load
    simply runs again at the next start.
    """
    marker = data_dir / ACCOUNTS_MARKER
    if await asyncio.to_thread(marker.exists):
        return
    started = time.perf_counter()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://embedded", headers={"Authorization": f"Bearer {token}"}, timeout=600
    ) as client:
        reps = list(csv.DictReader(io.StringIO(await asyncio.to_thread((source / "reps.csv").read_text))))
        for rep in reps:
            body = {
                "name": rep["name"],
                "home_lat": float(rep["home_lat"]),
                "home_lon": float(rep["home_lon"]),
                "capacity_hours": float(rep["capacity_hours"]),
                "role": rep["role"][:50],
            }
            _ok(await client.put(f"/assignment/v1/reps/{rep['external_id']}", json=body), 200, 201)
        for territory_code, rep_id in await _nearest_reps(client, alignment_id, reps):
            entry = {"sales_force": SALES_FORCE, "territory_code": territory_code, "rep_external_id": rep_id}
            _ok(await client.post("/assignment/v1/roster-entries", json=entry), 201)
        rows = list(csv.DictReader(io.StringIO(await asyncio.to_thread((source / "accounts.csv").read_text))))
        for start in range(0, len(rows), ACCOUNT_CHUNK):
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(ACCOUNT_COLUMNS.values())
            for row in rows[start : start + ACCOUNT_CHUNK]:
                writer.writerow(row[c] for c in ACCOUNT_COLUMNS)
            r = await client.post(
                "/assignment/v1/accounts/bulk",
                content=out.getvalue().encode(),
                headers={"content-type": "text/csv", "Idempotency-Key": f"demo-accounts-{start}"},
            )
            _ok(r, 200)
    seconds = round(time.perf_counter() - started, 1)
    summary = {"reps": len(reps), "accounts": len(rows), "seconds": seconds}
    await asyncio.to_thread(marker.write_text, json.dumps(summary))
    log.info("demo accounts loaded in %.1f s: %d reps, %d accounts", seconds, len(reps), len(rows))


async def _nearest_reps(
    client: httpx.AsyncClient, alignment_id: str, reps: list[dict[str, str]]
) -> list[tuple[str, str]]:
    """Each leaf territory gets the free rep living nearest to it (greedy, biggest territories first)."""
    shapes = (await client.get(f"/geo/v1/alignments/{alignment_id}/territories.geojson")).json()["features"]
    leaves = [f for f in shapes if f["properties"]["parent_id"] and f["geometry"]]
    leaves.sort(key=lambda f: -f["properties"]["unit_count"])
    free = {r["external_id"]: (float(r["home_lon"]), float(r["home_lat"])) for r in reps}
    pairs = []
    for leaf in leaves:
        if not free:
            break
        centre = shapely.geometry.shape(leaf["geometry"]).representative_point()
        rep_id = min(free, key=lambda r: (free[r][0] - centre.x) ** 2 + (free[r][1] - centre.y) ** 2)
        pairs.append((leaf["properties"]["code"], rep_id))
        del free[rep_id]
    return pairs


async def _import_counties(client: httpx.AsyncClient, path: Path) -> str:
    r = await client.post(
        "/geo/v1/layers",
        files={"file": ("us-counties.geojson", await asyncio.to_thread(_with_labels, path))},
        data={
            "name": "US counties",
            "id_column": "id",
            "attributes": "population,income,potential",
            "name_column": "label",
        },
    )
    _ok(r, 202)
    job = await _wait(client, r.json()["job_id"])
    return str(job["result"]["layer_id"])


def _with_labels(path: Path) -> bytes:
    """The counties file with each county's display name as planners say it, "Cook, IL", in ``label``."""
    collection = json.loads(path.read_bytes())
    for f in collection["features"]:
        f["properties"]["label"] = f"{f['properties']['name']}, {f['properties']['state']}"
    return json.dumps(collection, separators=(",", ":")).encode()


async def _starting_alignment(client: httpx.AsyncClient, layer_id: str, territories: Path, units: Path) -> str:
    r = await client.post(
        "/geo/v1/alignments", json={"name": "Starting alignment", "sales_force": SALES_FORCE, "layer_id": layer_id}
    )
    _ok(r, 201)
    alignment_id = r.json()["id"]
    ids: dict[str, str] = {}
    text = await asyncio.to_thread(territories.read_text)
    rows = list(csv.DictReader(io.StringIO(text)))
    # Regions first, so territories can name their parent.
    for row in sorted(rows, key=lambda row: row["level"] != "region"):
        body = {"code": row["code"], "name": row["name"], "alignment_id": alignment_id}
        if row.get("parent_code"):
            body["parent_id"] = ids[row["parent_code"]]
        r = await client.post("/geo/v1/territories", json=body)
        _ok(r, 201)
        ids[row["code"]] = r.json()["id"]
    r = await client.put(
        f"/geo/v1/alignments/{alignment_id}/assignments.csv",
        content=await asyncio.to_thread(units.read_bytes),
        headers={"content-type": "text/csv"},
    )
    _ok(r, 200)
    r = await client.post(f"/geo/v1/alignments/{alignment_id}/publish")
    _ok(r, 200)
    return alignment_id


async def _wait(client: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    while True:
        job = (await client.get(f"/geo/v1/jobs/{job_id}")).json()
        if job["status"] == "succeeded":
            return job
        if job["status"] in ("failed", "interrupted"):
            raise DemoLoadFailed(f"job {job_id} {job['status']}: {job.get('message')} {job.get('error')}")
        await asyncio.sleep(0.1)


def _ok(response: httpx.Response, *statuses: int) -> None:
    if response.status_code not in statuses:
        raise DemoLoadFailed(
            f"{response.request.method} {response.request.url.path} -> {response.status_code}: {response.text[:500]}"
        )
