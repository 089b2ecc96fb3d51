"""geo-service benchmarks: bulk location lookup, layer import, alignment copy, and the map's edit.

    uv run python benchmarks/geo_lookup_and_edit.py [--points 1000000] [--store postgis|sqlite] [--skip-zip-areas]

1. Bulk locate of N random points (contiguous US bounding box) against the 3,142 US counties:
   in-process (the service's STRtree index), through the HTTP bulk endpoint (100,000 points a request),
   the same join in PostGIS (ST_Intersects with the GiST index), and a GeoPandas ``sjoin``.
2. Import of US counties through the API (a job), with adjacency.
3. Copy of a ~32,000-unit alignment (approximate ZIP areas) and of the 3,142-county one.
4. Moving 500 units to another territory and re-dissolving the territories touched (the map's edit).
Prints seconds, points/s and the peak memory (RSS) of this process and of the API process.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo_service.spatial_index import LayerIndex  # noqa: E402
from territory_geodata.counties import load_us_counties, load_us_states  # noqa: E402
from territory_geodata.demo import build_demo  # noqa: E402
from territory_geodata.files import write_geojson  # noqa: E402
from territory_geodata.zip_areas import approximate_zip_areas  # noqa: E402
from territory_geodata.zips import load_zip_points  # noqa: E402

from tests.support.auth import auth_headers
from tests.support.postgres import async_url, create_database, drop_database  # noqa: E402
from tests.support.processes import ServiceProcess, free_port, wait_ready  # noqa: E402

TENANT = auth_headers("bench")
CONUS = (-124.8, 24.5, -66.9, 49.4)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def proc_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def random_points(n: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(CONUS[0], CONUS[2], n), rng.uniform(CONUS[1], CONUS[3], n)


def in_process(counties, lon, lat) -> np.ndarray:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    index = LayerIndex.build("us", list(zip(counties.ids.tolist(), shapely.to_wkb(counties.geometries), strict=True)))
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    found = index.locate(lon, lat)
    took = time.perf_counter() - t0
    print(
        f"in-process STRtree   build {build:.2f} s; {len(lon):,} points in {took:.2f} s = "
        f"{len(lon) / took:,.0f} points/s; inside a county: {(found >= 0).mean():.1%}; peak RSS {rss_mb():.0f} MB"
    )
    return found


def geopandas_sjoin(counties, lon, lat) -> None:  # type: ignore[no-untyped-def]
    import geopandas as gpd

    polys = gpd.GeoDataFrame({"fips": counties.ids}, geometry=counties.geometries, crs=4326)
    t0 = time.perf_counter()
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
    joined = gpd.sjoin(pts, polys, predicate="intersects", how="left")
    took = time.perf_counter() - t0
    print(
        f"GeoPandas sjoin       {len(lon):,} points in {took:.2f} s = {len(lon) / took:,.0f} points/s "
        f"({len(joined):,} rows)"
    )


async def postgis_join(database: str, layer_id: str, lon: np.ndarray, lat: np.ndarray) -> None:
    import asyncpg

    conn = await asyncpg.connect(async_url(database).replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.execute("CREATE TEMP TABLE pts (id int, lon float8, lat float8)")
        await conn.copy_records_to_table("pts", records=zip(range(len(lon)), lon.tolist(), lat.tolist(), strict=True))
        await conn.execute("ALTER TABLE pts ADD COLUMN geom geometry(Point, 4326)")
        await conn.execute("UPDATE pts SET geom = ST_SetSRID(ST_MakePoint(lon, lat), 4326)")
        await conn.execute("ANALYZE pts")
        t0 = time.perf_counter()
        n = await conn.fetchval(
            "SELECT count(*) FROM pts p JOIN units u ON u.layer_id = $1 AND ST_Intersects(u.geom, p.geom)", layer_id
        )
        took = time.perf_counter() - t0
        print(
            f"PostGIS ST_Intersects {len(lon):,} points in {took:.2f} s = {len(lon) / took:,.0f} points/s "
            f"({n:,} matches; GiST index on units.geom; points loaded beforehand)"
        )
    finally:
        await conn.close()


def http_locate(base: str, lon: np.ndarray, lat: np.ndarray, batch: int = 100_000) -> None:
    with httpx.Client(base_url=base, headers=TENANT, timeout=600) as client:
        t0 = time.perf_counter()
        located = 0
        for start in range(0, len(lon), batch):
            pts = [
                {"id": str(i), "lon": x, "lat": y}
                for i, x, y in zip(
                    range(start, start + batch),
                    lon[start : start + batch].tolist(),
                    lat[start : start + batch].tolist(),
                    strict=False,
                )
            ]
            r = client.post(
                "/v1/locate?sales_force=field",
                content=json.dumps({"points": pts}),
                headers={"content-type": "application/json"},
            )
            r.raise_for_status()
            located += r.json()["located"]
        took = time.perf_counter() - t0
    print(
        f"HTTP bulk (JSON)      {len(lon):,} points in {took:.2f} s = {len(lon) / took:,.0f} points/s "
        f"({batch:,} a request, incl. JSON both ways; {located:,} located)"
    )


def wait_job(client: httpx.Client, job_id: str) -> dict:
    while True:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed", "interrupted"):
            if job["status"] != "succeeded":
                raise RuntimeError(job)
            return job
        time.sleep(0.1)


def import_layer(client: httpx.Client, path: Path, name: str, attributes: str) -> tuple[str, float]:
    t0 = time.perf_counter()
    r = client.post(
        "/v1/layers",
        files={"file": (path.name, path.read_bytes())},
        data={"name": name, "id_column": "id", "attributes": attributes},
    )
    r.raise_for_status()
    job = wait_job(client, r.json()["job_id"])
    return job["result"]["layer_id"], time.perf_counter() - t0


def alignment_from_csv(client: httpx.Client, layer_id: str, assignments: str, name: str) -> str:
    a = client.post("/v1/alignments", json={"name": name, "sales_force": name, "layer_id": layer_id}).json()
    r = client.put(
        f"/v1/alignments/{a['id']}/assignments.csv", content=assignments.encode(), headers={"content-type": "text/csv"}
    )
    r.raise_for_status()
    return a["id"]


def time_copy(client: httpx.Client, alignment_id: str, label: str, units: int) -> None:
    times = []
    for i in range(3):
        t0 = time.perf_counter()
        r = client.post(
            "/v1/alignments", json={"name": f"copy {i}", "sales_force": "copies", "copy_from": alignment_id}
        )
        r.raise_for_status()
        times.append(time.perf_counter() - t0)
    print(f"copy alignment        {label}: {units:,} units, median {statistics.median(times):.2f} s (3 runs)")


def time_moves(client: httpx.Client, alignment_id: str) -> None:
    units = client.get(f"/v1/alignments/{alignment_id}/units").json()
    territories = client.get(f"/v1/territories?alignment_id={alignment_id}&limit=1000").json()["items"]
    parents = {t["parent_id"] for t in territories}
    leaves = [t for t in territories if t["id"] not in parents]
    owned = {u["unit_id"] for u in units if u["territory_id"] and not u["locked"]}
    layer = client.get(f"/v1/alignments/{alignment_id}").json()["layer_id"]
    centroids = {
        u["unit_id"]: u["centroid"]
        for u in client.get(f"/v1/layers/{layer}/units?limit=10000").json()["items"]
        if u["unit_id"] in owned
    }
    ids = np.array(sorted(centroids))
    xy = np.array([centroids[i] for i in ids])
    rng = np.random.default_rng(3)
    version = client.get(f"/v1/alignments/{alignment_id}").json()["version"]
    times = []
    for i in range(6):
        # A box or lasso selection on the map: the 500 units nearest to a point.
        centre = xy[rng.integers(len(xy))]
        chosen = ids[np.argsort(((xy - centre) ** 2).sum(axis=1))[:500]].tolist()
        target = leaves[i % len(leaves)]["id"]
        t0 = time.perf_counter()
        r = client.post(
            f"/v1/alignments/{alignment_id}/moves",
            json={"unit_ids": chosen, "territory_id": target},
            headers={"If-Match": f'"{version}"'},
        )
        times.append(time.perf_counter() - t0)
        r.raise_for_status()
        version = r.json()["alignment"]["version"]
        touched = len(r.json()["touched_territories"])
    print(
        f"move 500 units        median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms "
        f"(6 runs; each re-dissolves ~{touched} territories and their regions)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--store", choices=["postgis", "sqlite"], default="postgis")
    parser.add_argument("--skip-zip-areas", action="store_true")
    args = parser.parse_args()

    counties = load_us_counties()
    lon, lat = random_points(args.points)
    print(f"# {args.points:,} random points in the contiguous US bounding box; 3,142 US counties (us-atlas 10m)")
    in_process(counties, lon, lat)
    geopandas_sjoin(counties, lon, lat)

    demo = build_demo()
    with tempfile.TemporaryDirectory() as tmp:
        database = create_database("bench_geo") if args.store == "postgis" else None
        url = async_url(database) if database else f"sqlite+aiosqlite:///{tmp}/geo.sqlite"
        port = free_port()
        api = ServiceProcess(
            "geo-api",
            ["-m", "geo_service.cli", "api", "--port", str(port)],
            {
                "GEO_DATABASE_URL": url,
                "GEO_BUS_KIND": "inprocess",
                "GEO_INPROCESS_BUS_PATH": f"{tmp}/bus.sqlite",
                "LOG_LEVEL": "WARNING",
            },
            Path(tmp),
        )
        api.start()
        try:
            wait_ready(f"http://127.0.0.1:{port}/readyz", api)
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=TENANT, timeout=600) as client:
                layer_id, took = import_layer(
                    client, demo.path("counties.geojson"), "US counties", "population,potential"
                )
                print(f"import US counties    {took:.1f} s (3,142 units, validation, adjacency, {args.store})")
                alignment = alignment_from_csv(client, layer_id, demo.path("alignment.csv").read_text(), "field")
                client.post(f"/v1/alignments/{alignment}/publish").raise_for_status()
                http_locate(f"http://127.0.0.1:{port}", lon, lat)
                if database:
                    asyncio.run(postgis_join(database, layer_id, lon, lat))
                draft = client.post(
                    "/v1/alignments", json={"name": "edit", "sales_force": "edits", "copy_from": alignment}
                ).json()["id"]
                time_copy(client, alignment, "US counties", 3142)
                time_moves(client, draft)
                if not args.skip_zip_areas:
                    zips, states = load_zip_points(), load_us_states()
                    areas = approximate_zip_areas(zips, states)
                    keep = ~shapely.is_empty(areas.geometries)
                    path = Path(tmp) / "zip-areas.geojson"
                    write_geojson(path, areas.zip[keep], {"population": zips.population[keep]}, areas.geometries[keep])
                    zip_layer, took = import_layer(client, path, "approximate ZIP areas", "population")
                    print(f"import ZIP areas      {took:.1f} s ({int(keep.sum()):,} units)")
                    out = io.StringIO()
                    writer = csv.writer(out)
                    writer.writerow(["unit_id", "territory_code"])
                    for i, zid in enumerate(areas.zip[keep].tolist()):
                        writer.writerow([zid, f"T{i % 200:03d}"])
                    zip_alignment = alignment_from_csv(client, zip_layer, out.getvalue(), "zips")
                    time_copy(client, zip_alignment, "approximate ZIP areas", int(keep.sum()))
            print(f"peak RSS: benchmark {rss_mb():.0f} MB, geo-service API {proc_rss_mb(api.proc.pid):.0f} MB")
        finally:
            api.stop()
            if database:
                drop_database(database)


if __name__ == "__main__":
    main()
