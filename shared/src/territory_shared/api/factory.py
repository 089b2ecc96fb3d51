"""The parts every service's ``create_app`` shares: problem handlers, correlation ids, health, lifespan, and the
check of every request's credentials against the service's access table."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI

from territory_shared.api.api_keys import router as api_keys_router
from territory_shared.api.audit import router as audit_router
from territory_shared.api.auth import OPEN_PATHS, TokenVerifier, authorize
from territory_shared.api.failures import InternalErrorMiddleware, install_failure_handlers
from territory_shared.api.health import router as health_router
from territory_shared.api.limits import RequestLimitsMiddleware
from territory_shared.api.middleware import CorrelationIdMiddleware
from territory_shared.api.problems import install_problem_handlers
from territory_shared.api.roles import SHARED_ACCESS, AccessTable
from territory_shared.observability import instrument
from territory_shared.runtime import ServiceRuntime

log = logging.getLogger(__name__)


def service_app(
    runtime_factory: Callable[[], ServiceRuntime],
    *,
    title: str,
    description: str,
    access: AccessTable,
    run_workers_in_process: bool = False,
    on_start: Callable[[FastAPI, ServiceRuntime], Awaitable[Callable[[], Awaitable[None]] | None]] | None = None,
) -> FastAPI:
    """A FastAPI app whose lifespan migrates the database before serving.

    With ``run_workers_in_process`` the outbox relay and the inbox consumer run as tasks of the
    app's own loop: that is the embedded mode. Distributed, they are separate processes.
    ``on_start`` sets up the service's own state after migrations and may return its cleanup.
    ``access`` maps each of the service's routes to the roles that may call it (see ``roles.py``).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = runtime_factory()
        app.state.runtime = runtime
        app.state.token_verifier = TokenVerifier(runtime.settings.auth)
        if runtime.settings.run_migrations_on_start:
            await runtime.migrate()
        cleanup = await on_start(app, runtime) if on_start else None
        stop = asyncio.Event()
        tasks: list[asyncio.Task[None]] = []
        if run_workers_in_process:
            tasks.append(asyncio.create_task(runtime.make_relay().run(stop)))
            if runtime.handlers:
                tasks.append(asyncio.create_task(runtime.make_consumer().run(stop)))
        try:
            yield
        finally:
            stop.set()
            try:
                if cleanup is not None:
                    await cleanup()
            finally:
                # Even when the cleanup failed: the relay and the consumer must be done before the bus closes.
                for task in tasks:
                    await _stop_worker(task)
                await runtime.close()

    # App-wide, so that no route escapes it: open routes are let through by name inside ``authorize``.
    app = FastAPI(
        title=title, description=description, version="0.1.0", lifespan=lifespan, dependencies=[Depends(authorize)]
    )
    app.state.access = {**SHARED_ACCESS, **access}
    # Innermost first: limits, then the catch-all 500, then the correlation id every answer carries.
    app.add_middleware(RequestLimitsMiddleware)
    app.add_middleware(InternalErrorMiddleware)
    app.add_middleware(CorrelationIdMiddleware)
    install_problem_handlers(app)
    install_failure_handlers(app)
    app.include_router(health_router)
    app.include_router(api_keys_router)
    app.include_router(audit_router)
    _open_routes_need_no_credentials_in_openapi(app)
    instrument(app, title)  # /prometheus and the request latency histogram
    return app


async def _stop_worker(task: asyncio.Task[None]) -> None:
    """Wait for a worker that was told to stop; one that does not stop in time is cancelled and awaited."""
    try:
        await asyncio.wait_for(task, 10)
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise  # the lifespan itself is being cancelled, not only the worker
    except TimeoutError:
        # wait_for has cancelled the task and waited for it: the next worker is still stopped.
        log.warning("a background worker did not stop within 10 s and was cancelled")


def _open_routes_need_no_credentials_in_openapi(app: FastAPI) -> None:
    # The app-wide dependency marks every operation as secured; health answers anyone, so say so.
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = FastAPI.openapi(app)
            for path in OPEN_PATHS:
                for operation in schema.get("paths", {}).get(path, {}).values():
                    operation["security"] = []
            app.openapi_schema = schema
        return app.openapi_schema

    # FastAPI documents replacing `app.openapi` to customise the schema; mypy sees a method being reassigned.
    app.openapi = openapi  # type: ignore[method-assign]
