"""North Carolina's counties in geo-service, and alignments on them, through geo-service's HTTP API."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import libpysal
from fastapi.testclient import TestClient

from tests.support.processes import eventually

from .conftest import wait_for_job

WAKE, DURHAM, MECKLENBURG, ORANGE = "37183", "37063", "37119", "37135"
RALEIGH = (-78.6382, 35.7796)  # Wake
DURHAM_CITY = (-78.8986, 35.9940)  # Durham
CHARLOTTE = (-80.8431, 35.2271)  # Mecklenburg
CHAPEL_HILL = (-79.0558, 35.9132)  # Orange


def nc_shapefile_zip(folder: Path) -> Path:
    shp = Path(libpysal.examples.get_path("sids2.shp"))
    out = folder / "sids2.zip"
    with zipfile.ZipFile(out, "w") as z:
        for suffix in (".shp", ".shx", ".dbf"):
            z.write(shp.with_suffix(suffix), f"sids2{suffix}")
    return out


def import_nc(client: TestClient, tenant: dict[str, str], folder: Path) -> str:
    path = nc_shapefile_zip(folder)
    r = client.post(
        "/geo/v1/layers",
        headers=tenant,
        files={"file": (path.name, path.read_bytes())},
        data={"name": "NC", "id_column": "FIPS", "attributes": "BIR74"},
    )
    assert r.status_code == 202, r.text
    job = wait_for_job(client, tenant, "/geo", r.json()["job_id"])
    assert job["status"] == "succeeded", job
    return job["result"]["layer_id"]


def draft(
    client: TestClient,
    tenant: dict[str, str],
    layer_id: str,
    territories: dict[str, list[str]],
    sales_force: str = "field",
) -> dict:
    """A draft alignment whose territories (code -> county FIPS) are filled in."""
    r = client.post(
        "/geo/v1/alignments", json={"name": "plan", "sales_force": sales_force, "layer_id": layer_id}, headers=tenant
    )
    assert r.status_code == 201, r.text
    alignment = r.json()
    version = alignment["version"]
    for code, units in territories.items():
        t = client.post(
            "/geo/v1/territories", json={"code": code, "name": code, "alignment_id": alignment["id"]}, headers=tenant
        )
        assert t.status_code == 201, t.text
        if units:
            m = client.post(
                f"/geo/v1/alignments/{alignment['id']}/moves",
                json={"unit_ids": units, "territory_id": t.json()["id"]},
                headers={**tenant, "If-Match": f'"{version}"'},
            )
            assert m.status_code == 200, m.text
            version = m.json()["alignment"]["version"]
    return {"id": alignment["id"], "version": version}


def publish(client: TestClient, tenant: dict[str, str], alignment: dict) -> dict:
    """Publish in geo-service, then wait until assignment-service has completed the realignment run."""
    r = client.post(f"/geo/v1/alignments/{alignment['id']}/publish", headers=tenant)
    assert r.status_code == 200, r.text
    return eventually(
        lambda: next(
            (
                run
                for run in client.get("/v1/realignments", headers=tenant).json()
                if run["alignment_id"] == alignment["id"] and run["status"] == "completed"
            ),
            None,
        ),
        message="realignment run completed",
    )


def outbox_events(client: TestClient, event_type: str) -> list[dict]:
    from tests.support.databases import fetch_all

    url = client.app.state.assignment.state.runtime.settings.database_url
    rows = fetch_all(url, "SELECT payload FROM outbox WHERE event_type = :t ORDER BY seq", t=event_type)
    return [json.loads(bytes(r["payload"])) for r in rows]


def owners(client, tenant, sales_force="field") -> dict[str, tuple]:
    page = client.get(f"/v1/sales-forces/{sales_force}/assignments?limit=10000", headers=tenant).json()
    return {i["external_id"]: (i["territory_code"], i["rep_id"], i["cause"]) for i in page["items"]}


def rep(client, tenant, ext, territory, sales_force="field"):
    r = client.put(f"/v1/reps/{ext}", json={"name": ext, "capacity_hours": 1600}, headers=tenant)
    assert r.status_code in (200, 201), r.text
    e = client.post(
        "/v1/roster-entries",
        json={"sales_force": sales_force, "territory_code": territory, "rep_external_id": ext},
        headers=tenant,
    )
    assert e.status_code == 201, e.text
    return r.json()["id"]
