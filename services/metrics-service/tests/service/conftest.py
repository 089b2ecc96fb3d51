"""geo-service and metrics-service in one test app, on SQLite or on PostGIS, sharing an in-process bus.

metrics-service reads geo-service over HTTP through ``httpx.ASGITransport`` (as in the embedded mode), and
consumes the events geo-service's relay publishes from its outbox: the real path, not hand-made events.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from geo_service.api.app import create_app as create_geo_app
from geo_service.settings import GeoSettings
from metrics_service.api.app import create_app as create_metrics_app
from metrics_service.settings import MetricsSettings
from territory_shared.messaging.inprocess_bus import InProcessBus

from tests.support.auth import auth_headers
from tests.support.postgres import async_url, create_database, drop_database


@pytest.fixture(scope="module", params=["sqlite", "postgis"])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """Database URLs for geo, metrics and a replayed metrics, on one kind of store."""
    folder = tmp_path_factory.mktemp("stores")
    if request.param == "sqlite":
        yield {n: f"sqlite+aiosqlite:///{folder / f'{n}.sqlite'}" for n in ("geo", "metrics", "replay")} | {
            "kind": "sqlite",
            "bus": folder / "bus.sqlite",
        }
        return
    names = {n: create_database(f"test_metrics_{n}") for n in ("geo", "metrics", "replay")}
    try:
        yield {n: async_url(d) for n, d in names.items()} | {"kind": "postgis", "bus": folder / "bus.sqlite"}
    finally:
        for d in names.values():
            drop_database(d)


def platform_app(
    store: dict[str, object], *, metrics_db: str, service_name: str = "metrics-service", geo_workers: bool = True
) -> FastAPI:
    bus = InProcessBus(store["bus"])  # type: ignore[arg-type]
    common = {"bus_kind": "inprocess", "inprocess_bus_path": str(store["bus"])}
    geo = create_geo_app(GeoSettings(database_url=store["geo"], **common), bus=bus, run_workers_in_process=geo_workers)
    metrics = create_metrics_app(
        MetricsSettings(
            database_url=metrics_db,
            service_name=service_name,
            consumer_max_attempts=3,
            consumer_retry_backoff_s=0.01,
            balance_tolerance=0.10,
            balance_metrics=["BIR74", "account_potential", "workload_hours"],
            monitor_interval_s=0.3,
            **common,
        ),
        bus=bus,
        run_workers_in_process=True,
        geo_transport=httpx.ASGITransport(app=geo),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for service in (geo, metrics):
                await stack.enter_async_context(service.router.lifespan_context(service))
            yield
        bus.log.close()

    app = FastAPI(lifespan=lifespan)
    app.mount("/geo", geo)
    app.mount("/metrics", metrics)
    app.state.metrics = metrics
    app.state.bus = bus
    return app


@pytest.fixture(scope="module")
def client(store: dict[str, object]) -> Iterator[TestClient]:
    with TestClient(platform_app(store, metrics_db=store["metrics"])) as c:  # type: ignore[arg-type]
        yield c


def eventually(check, deadline_s: float = 30, message: str = ""):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + deadline_s
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.02)
    raise AssertionError(f"not true after {deadline_s}s: {message} (last: {last!r})")


def new_tenant() -> dict[str, str]:
    return auth_headers(f"m-{uuid.uuid4().hex[:8]}")


def nc_zip(folder: Path) -> Path:
    import zipfile

    import libpysal

    shp = Path(libpysal.examples.get_path("sids2.shp"))
    out = folder / "sids2.zip"
    with zipfile.ZipFile(out, "w") as z:
        for suffix in (".shp", ".shx", ".dbf"):
            z.write(shp.with_suffix(suffix), f"sids2{suffix}")
    return out
