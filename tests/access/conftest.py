"""The three services in one test app (``/geo``, ``/assignment``, ``/metrics``), on SQLite or PostGIS, sharing an
in-process bus as in the embedded mode, with tenant A's real resources in every service for the access tests.
"""

from __future__ import annotations

import uuid
import zipfile
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from assignment_service.api.app import create_app as create_assignment_app
from assignment_service.settings import AssignmentSettings
from fastapi import FastAPI
from fastapi.testclient import TestClient
from geo_service.api.app import create_app as create_geo_app
from geo_service.settings import GeoSettings
from metrics_service.api.app import create_app as create_metrics_app
from metrics_service.settings import MetricsSettings
from territory_shared.messaging.inprocess_bus import InProcessBus

from tests.access.routes import DURHAM, WAKE
from tests.support.auth import auth_headers
from tests.support.postgres import async_url, create_database, drop_database
from tests.support.processes import eventually

SERVICES = ("geo", "assignment", "metrics")
RALEIGH = (-78.64, 35.78)  # in Wake county


@pytest.fixture(scope="module", params=["sqlite", "postgis"])
def databases(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    if request.param == "sqlite":
        folder = tmp_path_factory.mktemp("access")
        yield {s: f"sqlite+aiosqlite:///{folder / f'{s}.sqlite'}" for s in SERVICES}
        return
    names = {s: create_database(f"test_access_{s}") for s in SERVICES}
    try:
        yield {s: async_url(n) for s, n in names.items()}
    finally:
        for n in names.values():
            drop_database(n)


@pytest.fixture(scope="module")
def client(databases: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    bus_path = tmp_path_factory.mktemp("bus") / "bus.sqlite"
    bus = InProcessBus(bus_path)
    common = {"bus_kind": "inprocess", "inprocess_bus_path": str(bus_path), "relay_idle_wait_s": 0.02}
    geo = create_geo_app(GeoSettings(database_url=databases["geo"], **common), bus=bus, run_workers_in_process=True)
    assignment = create_assignment_app(
        AssignmentSettings(database_url=databases["assignment"], webhook_backoff_s=0.2, **common),
        bus=bus,
        run_workers_in_process=True,
        geo_http=httpx.AsyncClient(transport=httpx.ASGITransport(app=geo), base_url="http://geo", timeout=120),
    )
    apps = {
        "geo": geo,
        "assignment": assignment,
        "metrics": create_metrics_app(
            MetricsSettings(database_url=databases["metrics"], **common),
            bus=bus,
            run_workers_in_process=True,
            geo_transport=httpx.ASGITransport(app=geo),
            assignment_transport=httpx.ASGITransport(app=assignment),
        ),
    }

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for service in apps.values():
                await stack.enter_async_context(service.router.lifespan_context(service))
            yield
        bus.log.close()

    app = FastAPI(lifespan=lifespan)
    for prefix, service in apps.items():
        app.mount(f"/{prefix}", service)
    app.state.services = apps
    with TestClient(app) as c:
        yield c


@dataclass
class Tenant:
    """A tenant with real resources in every service: the ids the other tenant's requests aim at."""

    name: str
    ids: dict[str, str] = field(default_factory=dict)  # path or query parameter -> tenant A's value
    marker: str = ""  # in every name tenant A gives, so its data is recognisable in any response

    def headers(self, role: str = "admin", **claims: Any) -> dict[str, str]:
        return auth_headers(self.name, role, **claims)


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json() if response.content else None


def _nc_zip(folder: Path) -> bytes:
    import libpysal

    shp = Path(libpysal.examples.get_path("sids2.shp"))
    out = folder / "sids2.zip"
    with zipfile.ZipFile(out, "w") as z:
        for suffix in (".shp", ".shx", ".dbf"):
            z.write(shp.with_suffix(suffix), f"sids2{suffix}")
    return out.read_bytes()


def _job(client: TestClient, prefix: str, headers: dict[str, str], job_id: str) -> dict[str, Any]:
    return eventually(
        lambda: (
            (j := ok(client.get(f"/{prefix}/v1/jobs/{job_id}", headers=headers)))["status"] in ("succeeded", "failed")
            and j
        ),
        deadline_s=120,
        message=f"job {job_id}",
    )


@pytest.fixture(scope="module")
def tenant_a(client: TestClient, tmp_path_factory: pytest.TempPathFactory) -> Tenant:
    """NC counties, a published alignment of two territories, a draft, a rep holding one of them, an account
    assigned to that rep, rules, an override, a webhook, a realignment run, metrics and an API key per service."""
    a = Tenant(f"a-{uuid.uuid4().hex[:8]}", marker=f"secret-{uuid.uuid4().hex[:8]}")
    h = a.headers()
    job = ok(
        client.post(
            "/geo/v1/layers",
            headers=h,
            files={"file": ("sids2.zip", _nc_zip(tmp_path_factory.mktemp("nc")))},
            data={"name": f"NC {a.marker}", "id_column": "FIPS", "attributes": "BIR74"},
        ),
        202,
    )
    a.ids["job_id"] = job["job_id"]
    a.ids["layer_id"] = _job(client, "geo", h, job["job_id"])["result"]["layer_id"]
    body = {"name": f"Plan {a.marker}", "sales_force": "field", "layer_id": a.ids["layer_id"]}
    alignment = ok(client.post("/geo/v1/alignments", json=body, headers=h), 201)
    territories = {}
    for code in ("T1", "T2"):
        body = {"code": code, "name": f"{code} {a.marker}", "alignment_id": alignment["id"]}
        territories[code] = ok(client.post("/geo/v1/territories", json=body, headers=h), 201)["id"]
    for unit, code in ((WAKE, "T1"), (DURHAM, "T2")):
        version = ok(client.get(f"/geo/v1/alignments/{alignment['id']}", headers=h))["version"]
        ok(
            client.post(
                f"/geo/v1/alignments/{alignment['id']}/moves",
                json={"unit_ids": [unit], "territory_id": territories[code]},
                headers={**h, "If-Match": f'"{version}"'},
            )
        )
    a.ids["territory_id"] = territories["T1"]
    ok(client.put("/assignment/v1/reps/REP-A", json={"name": f"Rep {a.marker}"}, headers=h), 201)
    entry = {"sales_force": "field", "territory_code": "T1", "rep_external_id": "REP-A"}
    a.ids["entry_id"] = ok(client.post("/assignment/v1/roster-entries", json=entry, headers=h), 201)["id"]
    version = ok(client.get(f"/geo/v1/alignments/{alignment['id']}", headers=h))["version"]
    ok(client.post(f"/geo/v1/alignments/{alignment['id']}/publish", headers={**h, "If-Match": f'"{version}"'}))
    a.ids["alignment_id"] = a.ids["a"] = alignment["id"]
    accounts = [
        {"external_id": "ACC-A1", "name": f"Acme {a.marker}", "lon": RALEIGH[0], "lat": RALEIGH[1], "potential": 5},
        {"external_id": "ACC-A2", "name": f"Other {a.marker}", "lon": -78.9, "lat": 36.0, "potential": 7},
    ]
    ok(client.post("/assignment/v1/accounts/bulk", json=accounts, headers=h))
    eventually(
        lambda: ok(client.get("/assignment/v1/accounts/ACC-A1/assignments", headers=h))[0]["rep_id"],
        message="ACC-A1 assigned to its rep",
    )
    ok(client.put("/assignment/v1/sales-forces/field/rule-set", json={"rules": []}, headers=h), 202)
    override = {"territory_code": "T2", "note": f"pinned {a.marker}"}
    ok(client.put("/assignment/v1/sales-forces/field/overrides/ACC-A2", json=override, headers=h))
    hook = {"url": "http://127.0.0.1:9/hook", "secret": f"s-{a.marker}-0123456789"}
    a.ids["webhook_id"] = ok(client.post("/assignment/v1/webhooks", json=hook, headers=h), 201)["id"]
    runs = eventually(lambda: ok(client.get("/assignment/v1/realignments", headers=h)), message="a realignment run")
    a.ids["run_id"] = runs[0]["id"] if isinstance(runs, list) else runs["items"][0]["id"]
    draft = {"name": f"Draft {a.marker}", "sales_force": "field", "copy_from": alignment["id"]}
    a.ids["b"] = ok(client.post("/geo/v1/alignments", json=draft, headers=h), 201)["id"]
    eventually(
        lambda: (
            {a.ids["a"], a.ids["b"]} <= {x["alignment_id"] for x in ok(client.get("/metrics/v1/alignments", headers=h))}
        ),
        message="metrics of both alignments",
    )
    for prefix in SERVICES:
        key = ok(client.post(f"/{prefix}/v1/api-keys", json={"name": f"CRM {a.marker}"}, headers=h), 201)
        a.ids[f"{prefix}:key_id"] = key["id"]
    a.ids.update({"external_id": "ACC-A1", "account_external_id": "ACC-A2", "sales_force": "field"})
    a.ids.update({"z": "7", "x": "36", "y": "50"})  # the vector tile holding Wake county
    a.ids.update({"lon": str(RALEIGH[0]), "lat": str(RALEIGH[1])})
    return a
