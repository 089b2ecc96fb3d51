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
from fastapi import FastAPI

log = logging.getLogger(__name__)

TENANT = "demo"
SALES_FORCE = "field"
MARKER = "demo-loaded.json"


class DemoLoadFailed(Exception):
    pass


async def load_demo(app: FastAPI, data_dir: Path, accounts: int = 50_000, reps: int = 100) -> dict[str, Any]:
    marker = data_dir / MARKER
    if await asyncio.to_thread(marker.exists):
        return json.loads(await asyncio.to_thread(marker.read_text))
    started = time.perf_counter()
    from territory_geodata.demo import build_demo  # imported here: only the demo needs the data builder

    build = await asyncio.to_thread(build_demo, None, accounts, reps)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://embedded", headers={"X-Tenant-ID": TENANT}, timeout=300
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
    return loaded


async def _import_counties(client: httpx.AsyncClient, path: Path) -> str:
    r = await client.post(
        "/geo/v1/layers",
        files={"file": ("us-counties.geojson", await asyncio.to_thread(path.read_bytes))},
        data={"name": "US counties", "id_column": "id", "attributes": "population,income,potential"},
    )
    _ok(r, 202)
    job = await _wait(client, r.json()["job_id"])
    return str(job["result"]["layer_id"])


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


def _ok(response: httpx.Response, status: int) -> None:
    if response.status_code != status:
        raise DemoLoadFailed(
            f"{response.request.method} {response.request.url.path} -> {response.status_code}: {response.text[:500]}"
        )
