"""assignment-service with a real geo-service beside it, in one test app, on SQLite or PostGIS.

Both apps share one in-process bus and run their relay and consumer as tasks, so a publish in geo-service
reaches assignment-service's handler exactly as in the embedded platform. assignment-service reaches
geo-service over HTTP through an ``httpx.ASGITransport`` (no socket). Each service has its own database.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
import pytest
from assignment_service.api.app import create_app
from assignment_service.settings import AssignmentSettings
from fastapi import FastAPI
from fastapi.testclient import TestClient
from geo_service.api.app import create_app as create_geo_app
from geo_service.settings import GeoSettings
from territory_shared.messaging.inprocess_bus import InProcessBus

from tests.support.auth import auth_headers
from tests.support.databases import database_url  # noqa: F401 - fixture
from tests.support.postgres import async_url, create_database, drop_database
from tests.support.processes import eventually


@pytest.fixture(scope="module")
def geo_database_url(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:  # noqa: F811
    if database_url.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('geo') / 'geo.sqlite'}"
        return
    name = create_database("test_geo")
    try:
        yield async_url(name)
    finally:
        drop_database(name)


@pytest.fixture(scope="module")
def client(
    database_url: str,  # noqa: F811
    geo_database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[TestClient]:
    """``/geo/...`` is geo-service; everything else is assignment-service."""
    bus_path = tmp_path_factory.mktemp("bus") / "bus.sqlite"
    bus = InProcessBus(bus_path)
    common = {"bus_kind": "inprocess", "inprocess_bus_path": str(bus_path), "relay_idle_wait_s": 0.02}
    geo_app = create_geo_app(GeoSettings(database_url=geo_database_url, **common), bus=bus, run_workers_in_process=True)
    assignment_app = create_app(
        AssignmentSettings(database_url=database_url, webhook_backoff_s=0.2, webhook_max_backoff_s=0.5, **common),
        bus=bus,
        run_workers_in_process=True,
        geo_http=httpx.AsyncClient(transport=httpx.ASGITransport(app=geo_app), base_url="http://geo", timeout=120),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for service in (geo_app, assignment_app):
                await stack.enter_async_context(service.router.lifespan_context(service))
            yield
        bus.log.close()

    app = FastAPI(lifespan=lifespan)
    app.mount("/geo", geo_app)
    app.mount("/", assignment_app)
    app.state.assignment = assignment_app
    with TestClient(app) as c:
        yield c


@pytest.fixture
def tenant() -> dict[str, str]:
    return auth_headers(f"t-{uuid.uuid4().hex[:8]}")


def wait_for_job(client: TestClient, tenant: dict[str, str], path: str, job_id: str) -> dict:
    return eventually(
        lambda: (
            (j := client.get(f"{path}/v1/jobs/{job_id}", headers=tenant).json())["status"]
            in ("succeeded", "failed", "interrupted")
            and j
        ),
        deadline_s=120,
        message=f"job {job_id}",
    )


def save_rule_set(client: TestClient, tenant: dict[str, str], body: dict, sales_force: str = "field") -> dict:
    """PUT a rule set (202: saved, a job applies it) and wait until its job is done; answers the job."""
    r = client.put(f"/v1/sales-forces/{sales_force}/rule-set", json=body, headers=tenant)
    assert r.status_code == 202, r.text
    job = wait_for_job(client, tenant, "", r.json()["job"]["id"])
    assert job["status"] == "succeeded", job
    return job


def upsert(client: TestClient, tenant: dict[str, str], rows: list[dict] | bytes, **kw: Any) -> httpx.Response:
    headers = {**tenant, **kw.pop("headers", {})}
    if isinstance(rows, bytes):
        return client.post("/v1/accounts/bulk", content=rows, headers=headers, params=kw)
    return client.post("/v1/accounts/bulk", json=rows, headers=headers, params=kw)
