"""The embedded mode: the three services in one process, on SQLite files and the in-process bus.

Each service keeps its own database file and its own path prefix (``/geo``, ``/assignment``,
``/metrics``); the shared in-process bus carries their events with the same outbox / inbox
semantics as Kafka, and each service's relay and consumer run as tasks of this process.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Annotated

import httpx
from assignment_service.api.app import create_app as create_assignment_app
from assignment_service.settings import AssignmentSettings
from fastapi import Depends, FastAPI, Security
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.staticfiles import StaticFiles
from geo_service.api.app import create_app as create_geo_app
from geo_service.settings import GeoSettings
from metrics_service.api.app import create_app as create_metrics_app
from metrics_service.settings import MetricsSettings
from territory_shared.api.auth import TokenVerifier, bearer_scheme
from territory_shared.api.middleware import CorrelationIdMiddleware
from territory_shared.api.problems import NotFound, Unauthorized, install_problem_handlers
from territory_shared.messaging.inprocess_bus import InProcessBus

from territory_embedded.access import ADMIN_TENANT, ADMIN_TOKEN_FILE, admin_token, embedded_auth

log = logging.getLogger(__name__)

PREFIXES = ("geo", "assignment", "metrics")


def _sqlite(data_dir: Path, name: str) -> str:
    return f"sqlite+aiosqlite:///{(data_dir / f'{name}.sqlite').resolve()}"


def create_embedded_app(data_dir: Path, load_demo_data: bool = False) -> FastAPI:
    data_dir.mkdir(parents=True, exist_ok=True)
    bus = InProcessBus(data_dir / "bus.sqlite")
    auth = embedded_auth(data_dir)
    common = {"bus_kind": "inprocess", "inprocess_bus_path": str(data_dir / "bus.sqlite"), "auth": auth}
    geo_app = create_geo_app(
        GeoSettings(database_url=_sqlite(data_dir, "geo"), **common), bus=bus, run_workers_in_process=True
    )
    services: dict[str, FastAPI] = {
        "geo": geo_app,
        "assignment": create_assignment_app(
            AssignmentSettings(database_url=_sqlite(data_dir, "assignment"), **common),
            bus=bus,
            run_workers_in_process=True,
            # geo-service in the same process: its app over ASGI, no socket.
            geo_http=httpx.AsyncClient(transport=httpx.ASGITransport(app=geo_app), base_url="http://geo", timeout=300),
        ),
    }
    # metrics-service reads geo-service's and assignment-service's HTTP APIs in-process: no socket, the same apps
    # the /geo and /assignment paths serve.
    services["metrics"] = create_metrics_app(
        MetricsSettings(database_url=_sqlite(data_dir, "metrics"), **common),
        bus=bus,
        run_workers_in_process=True,
        geo_transport=httpx.ASGITransport(app=services["geo"]),
        assignment_transport=httpx.ASGITransport(app=services["assignment"]),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # A previous run of this app (a test client, a server restarted in-process) closed the log: reopen it.
        bus.log.open()
        try:
            # Starlette does not run a mounted app's lifespan: enter each one here, in dependency order.
            async with AsyncExitStack() as stack:
                for service in services.values():
                    await stack.enter_async_context(service.router.lifespan_context(service))
                demo = asyncio.create_task(_load_demo(app, data_dir, token)) if load_demo_data else None
                try:
                    yield
                finally:
                    # The demo calls the services: it ends before they stop.
                    if demo is not None:
                        demo.cancel()
                        await asyncio.wait([demo])
        finally:
            # Only now: every service has stopped and awaited its relay and consumer, so none uses the log.
            bus.log.close()

    app = FastAPI(
        title="Territory platform (embedded)",
        description="geo-service at /geo, assignment-service at /assignment, metrics-service at /metrics.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.add_middleware(CorrelationIdMiddleware)
    # The local admin of tenant demo: printed by the CLI, kept in the data folder for scripts.
    token = app.state.admin_token = admin_token(auth) if auth.jwt_secret else None
    if token:
        (data_dir / ADMIN_TOKEN_FILE).write_text(token + "\n")
        (data_dir / ADMIN_TOKEN_FILE).chmod(0o600)
    # Requests no service mount matches (e.g. a path with a newline) get problem+json errors too.
    install_problem_handlers(app)

    @app.get("/healthz", tags=["operations"], summary="Health of the three services")
    async def healthz() -> JSONResponse:
        checks = {}
        for prefix, service in services.items():
            runtime = service.state.runtime
            checks[runtime.settings.service_name] = {
                "status": "ok" if await runtime.database_ready() else "failing",
                "docs": f"/{prefix}/docs",
            }
        healthy = all(c["status"] == "ok" for c in checks.values())
        return JSONResponse(
            {"status": "ok" if healthy else "failing", "mode": "embedded", "services": checks},
            status_code=200 if healthy else 503,
        )

    install_problem_handlers(app)
    verifier = TokenVerifier(auth)

    async def demo_tenant(bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)]) -> None:
        # The demo's ids belong to tenant demo: only its callers may read them.
        if bearer is None:
            raise Unauthorized("Credentials are required: `Authorization: Bearer <token>`.", "invalid_request")
        if verifier.verify(bearer.credentials).tenant != ADMIN_TENANT:
            raise NotFound("The demo belongs to tenant demo.")

    @app.get(
        "/v1/demo",
        tags=["operations"],
        summary="What the demo loaded, or that it is still loading",
        dependencies=[Depends(demo_tenant)],
    )
    async def demo_status() -> JSONResponse:
        marker, accounts = data_dir / "demo-loaded.json", data_dir / "demo-accounts-loaded.json"
        if marker.exists():
            status = {"status": "loaded", **json.loads(marker.read_text())}
            status["accounts"] = json.loads(accounts.read_text()) if accounts.exists() else "loading"
            return JSONResponse(status)
        return JSONResponse({"status": "loading" if load_demo_data else "not requested"})

    for prefix, service in services.items():
        app.mount(f"/{prefix}", service)
    _serve_web_map(app)
    return app


def web_dir() -> Path:
    """The built web map (``make web`` builds web/ into web/dist); TERRITORY_WEB_DIR points elsewhere."""
    configured = os.environ.get("TERRITORY_WEB_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parents[3] / "web" / "dist"


def _serve_web_map(app: FastAPI) -> None:
    # Mounted last: the routes and service mounts above take precedence over this catch-all.
    folder = web_dir()
    if (folder / "index.html").is_file():
        app.mount("/", StaticFiles(directory=folder, html=True), name="web-map")
        return

    @app.get("/", include_in_schema=False)
    async def index() -> HTMLResponse:
        links = "".join(f'<li><a href="/{p}/docs">{p}-service API</a></li>' for p in PREFIXES)
        return HTMLResponse(
            "<!doctype html><title>Territory platform</title><h1>Territory platform</h1>"
            f"<p>Embedded mode. The web map is not built: run <code>make web</code> ({folder} has no index.html).</p>"
            f"<p><a href='/healthz'>Health</a></p><ul>{links}</ul>"
        )


async def _load_demo(app: FastAPI, data_dir: Path, token: str | None) -> None:
    from territory_embedded.demo import load_demo

    try:
        if token is None:
            raise RuntimeError("the demo is loaded with the local admin token, and AUTH_JWT_SECRET is not set")
        await load_demo(app, data_dir, token)
    except Exception:  # noqa: BLE001 - the platform stays up without its demo; the log says why
        log.exception("the demo could not be loaded")
