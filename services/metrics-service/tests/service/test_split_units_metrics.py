"""A draft whose unit is split into finer units (geo-service moves it onto a derived layer) is measured on that layer:
metrics-service's figures per territory equal those computed from geo-service's own data, and a second split too."""

from __future__ import annotations

import json

import pytest

from .conftest import eventually, new_tenant

pytestmark = pytest.mark.postgis


def geo(client, method, path, tenant, **kw):
    r = client.request(method, f"/geo{path}", headers={**tenant, **kw.pop("headers", {})}, **kw)
    assert r.status_code < 300, r.text
    return r


def grid(client, tenant, name: str, rows: int, size: float, pop) -> str:  # type: ignore[no-untyped-def]
    """Square cells G<row><col> from (0, 0), each with pop = pop(row, col)."""
    features = [
        {
            "type": "Feature",
            "properties": {"id": f"G{r}{c}", "pop": pop(r, c)},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [c * size, r * size],
                        [(c + 1) * size, r * size],
                        [(c + 1) * size, (r + 1) * size],
                        [c * size, (r + 1) * size],
                        [c * size, r * size],
                    ]
                ],
            },
        }
        for r in range(rows)
        for c in range(rows)
    ]
    body = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    r = geo(
        client,
        "POST",
        "/v1/layers",
        tenant,
        files={"file": ("grid.geojson", body)},
        data={"name": name, "id_column": "id", "attributes": "pop"},
    )
    job_id = r.json()["job_id"]
    job = eventually(
        lambda: (
            (j := geo(client, "GET", f"/v1/jobs/{job_id}", tenant).json())["status"] in ("succeeded", "failed") and j
        ),
        60,
        "layer import",
    )
    assert job["status"] == "succeeded", job
    return job["result"]["layer_id"]


def from_geo(client, tenant, alignment_id) -> dict[str, tuple[int, float]]:
    """Per territory code, the unit count and pop sum, from geo-service's memberships and units (the truth)."""
    alignment = geo(client, "GET", f"/v1/alignments/{alignment_id}", tenant).json()
    units = geo(client, "GET", f"/v1/layers/{alignment['layer_id']}/units?limit=10000", tenant).json()["items"]
    pop = {u["unit_id"]: u["attributes"]["pop"] for u in units}
    codes = {
        t["id"]: t["code"]
        for t in geo(client, "GET", f"/v1/territories?alignment_id={alignment_id}", tenant).json()["items"]
    }
    out: dict[str, tuple[int, float]] = {c: (0, 0.0) for c in codes.values()}
    for m in geo(client, "GET", f"/v1/alignments/{alignment_id}/units", tenant).json():
        if m["territory_id"]:
            n, total = out[codes[m["territory_id"]]]
            out[codes[m["territory_id"]]] = (n + 1, total + pop[m["unit_id"]])
    return out


def from_metrics(client, tenant, alignment_id) -> dict[str, tuple[int, float]] | None:
    r = client.get(f"/metrics/v1/alignments/{alignment_id}/metrics", headers=tenant)
    if r.status_code != 200:
        return None
    return {t["code"]: (t["unit_count"], t["values"]["pop"]) for t in r.json()["territories"]}


def same(a: dict[str, tuple[int, float]] | None, b: dict[str, tuple[int, float]]) -> bool:
    return (
        a is not None and a.keys() == b.keys() and all(a[k][0] == b[k][0] and abs(a[k][1] - b[k][1]) < 1e-6 for k in b)
    )


def test_the_metrics_of_a_split_draft_are_those_of_its_derived_layer(client):
    tenant = new_tenant()
    coarse = grid(client, tenant, "counties", 3, 1.0, lambda r, c: 100 * (r + 1) + c)
    fine = grid(client, tenant, "approximate ZIP areas", 6, 0.5, lambda r, c: r + c + 1)
    draft = geo(client, "POST", "/v1/alignments", tenant, json={"name": "FY27", "sales_force": "f", "layer_id": coarse})
    alignment_id = draft.json()["id"]
    geo(
        client,
        "PUT",
        f"/v1/alignments/{alignment_id}/territories.csv",
        tenant,
        content=b"code,name,parent_code,colour\nA,a,,\nB,b,,\n",
    )
    assignments = "unit_id,territory_code\nG00,A\nG01,A\nG10,A\nG11,A\nG02,B\nG12,B\nG20,B\nG21,B\nG22,B\n"
    r = geo(client, "PUT", f"/v1/alignments/{alignment_id}/assignments.csv", tenant, content=assignments.encode())
    version = r.json()["version"]
    eventually(lambda: same(from_metrics(client, tenant, alignment_id), from_geo(client, tenant, alignment_id)))

    r = geo(
        client,
        "POST",
        f"/v1/alignments/{alignment_id}/split",
        tenant,
        json={"unit_ids": ["G11"], "into_layer": fine},
        headers={"If-Match": f'"{version}"'},
    )
    truth = from_geo(client, tenant, alignment_id)
    # G11 (pop 201) gives way to the four fine cells inside it (pops 5, 6, 6, 7).
    assert truth == {"A": (3 + 4, 100 + 101 + 200 + 5 + 6 + 6 + 7), "B": (5, 102 + 202 + 300 + 301 + 302)}
    eventually(lambda: same(from_metrics(client, tenant, alignment_id), truth), message="the split draft's metrics")

    # A second split, of a unit of B, derives from the derived layer: metrics follow again.
    version = r.json()["alignment"]["version"]
    geo(
        client,
        "POST",
        f"/v1/alignments/{alignment_id}/split",
        tenant,
        json={"unit_ids": ["G12"], "into_layer": fine},
        headers={"If-Match": f'"{version}"'},
    )
    truth = from_geo(client, tenant, alignment_id)
    assert truth["B"][0] == 4 + 4
    eventually(lambda: same(from_metrics(client, tenant, alignment_id), truth), message="the second split's metrics")
