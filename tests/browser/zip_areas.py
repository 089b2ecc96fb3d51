"""Approximate ZIP areas (Voronoi cells of the ZIP points clipped to their state) as a layer imported through the
API, with an alignment that puts them in territories: the web map's big-layer case, for its tests and benchmark."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx
import numpy as np
import shapely

OUTSIDE_CONTIGUOUS = ["AK", "HI", "PR", "VI", "GU", "AS", "MP"]


def zip_area_units(
    states: Sequence[str] | None = None,
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """ids, state, population, shapes and names ("27601 Raleigh, NC") of the ZIP areas of `states` (the contiguous
    US when None); ZIPs that share a point share its cell, so one unit per cell."""
    from territory_geodata import approximate_zip_areas, load_us_states, load_zip_points

    zips = load_zip_points()
    areas = approximate_zip_areas(zips, load_us_states())
    keep = ~shapely.is_empty(areas.geometries) & ~np.isin(areas.state, OUTSIDE_CONTIGUOUS)
    if states is not None:
        keep &= np.isin(areas.state, list(states))
    xy = np.column_stack([zips.lon, zips.lat])[keep]
    _, first, inverse = np.unique(xy, axis=0, return_index=True, return_inverse=True)
    idx = np.flatnonzero(keep)[first]
    pop = np.bincount(inverse.ravel(), weights=zips.population[keep].astype(float), minlength=len(first))
    names = [f"{z} {c}, {s}" for z, c, s in zip(zips.zip[idx], zips.primary_city[idx], zips.state[idx], strict=True)]
    return [str(z) for z in zips.zip[idx]], areas.state[idx], pop, areas.geometries[idx], names


def import_zip_layer(
    http: httpx.Client, folder: Path, states: Sequence[str] | None = None, deadline_s: float = 900
) -> tuple[str, dict[str, str]]:
    """Import the ZIP areas as a layer (attribute `pop`); the layer id and each unit's state."""
    from territory_geodata.files import write_geojson

    ids, state, pop, geometries, names = zip_area_units(states)
    path = folder / "zip-areas.geojson"
    write_geojson(path, np.array(ids, dtype=object), {"pop": pop, "name": np.array(names, dtype=object)}, geometries)
    with path.open("rb") as f:
        r = http.post(
            "/geo/v1/layers",
            files={"file": (path.name, f)},
            data={"name": "ZIP areas", "id_column": "id", "attributes": "pop", "name_column": "name"},
        )
    assert r.status_code == 202, r.text
    job_url = f"/geo/v1/jobs/{r.json()['job_id']}"
    deadline = time.monotonic() + deadline_s
    while (job := http.get(job_url).json())["status"] not in ("succeeded", "failed", "interrupted"):
        assert time.monotonic() < deadline, job
        time.sleep(0.5)
    assert job["status"] == "succeeded", job
    return str(job["result"]["layer_id"]), dict(zip(ids, (str(s) for s in state), strict=True))


def publish_alignment(
    http: httpx.Client, layer_id: str, territory_of: dict[str, str], sales_force: str = "field"
) -> str:
    """One territory per distinct code in `territory_of`, filled by CSV and published; the alignment id."""
    body = {"name": "Starting", "sales_force": sales_force, "layer_id": layer_id}
    alignment = _ok(http.post("/geo/v1/alignments", json=body), 201)
    for code in sorted(set(territory_of.values())):
        body = {"code": code, "name": code, "alignment_id": alignment["id"]}
        _ok(http.post("/geo/v1/territories", json=body), 201)
    csv = "unit_id,territory_code\n" + "".join(f"{u},{t}\n" for u, t in territory_of.items())
    r = http.put(
        f"/geo/v1/alignments/{alignment['id']}/assignments.csv",
        content=csv.encode(),
        headers={"If-Match": f'"{alignment["version"]}"'},
    )
    assert r.status_code == 200, r.text
    version = int(r.headers["etag"].strip('"'))
    _ok(http.post(f"/geo/v1/alignments/{alignment['id']}/publish", headers={"If-Match": f'"{version}"'}))
    return str(alignment["id"])


def by_longitude(http: httpx.Client, layer_id: str, codes: Sequence[str]) -> dict[str, str]:
    """Units split into len(codes) bands of equal count, west to east."""
    centres = unit_centres(http, layer_id)
    order = sorted(centres, key=lambda u: centres[u][0])
    band: Callable[[int], str] = lambda i: codes[i * len(codes) // len(order)]  # noqa: E731
    return {u: band(i) for i, u in enumerate(order)}


def unit_centres(http: httpx.Client, layer_id: str) -> dict[str, tuple[float, float]]:
    out: dict[str, tuple[float, float]] = {}
    url: str | None = f"/geo/v1/layers/{layer_id}/units?limit=10000"
    while url:
        page = _ok(http.get(url))
        out.update({u["unit_id"]: tuple(u["centroid"]) for u in page["items"]})
        url = page["next"]
    return out


def _ok(r: httpx.Response, status: int = 200):  # type: ignore[no-untyped-def]
    assert r.status_code == status, f"{r.request.method} {r.request.url}: {r.text}"
    return r.json() if r.content else None
