"""The parts every service's ``create_app`` shares: problem handlers, correlation ids, health, lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from territory_shared.api.failures import InternalErrorMiddleware, install_failure_handlers
from territory_shared.api.health import router as health_router
from territory_shared.api.limits import RequestLimitsMiddleware
from territory_shared.api.middleware import CorrelationIdMiddleware
from territory_shared.api.problems import install_problem_handlers
from territory_shared.observability import instrument
from territory_shared.runtime import ServiceRuntime

log = logging.getLogger(__name__)


def service_app(
    runtime_factory: Callable[[], ServiceRuntime],
    *,
    title: str,
    description: str,
    run_workers_in_process: bool = False,
    on_start: Callable[[FastAPI, ServiceRuntime], Awaitable[Callable[[], Awaitable[None]] | None]] | None = None,
) -> FastAPI:
    """A FastAPI app whose lifespan migrates the database before serving.

    With ``run_workers_in_process`` the outbox relay and the inbox consumer run as tasks of the
    app's own loop: that is the embedded mode. Distributed, they are separate processes.
    ``on_start`` sets up the service's own state after migrations and may return its cleanup.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = runtime_factory()
        app.state.runtime = runtime
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
            if cleanup is not None:
                await cleanup()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(task, 10)
            await runtime.close()

    app = FastAPI(title=title, description=description, version="0.1.0", lifespan=lifespan)
    # Innermost first: limits, then the catch-all 500, then the correlation id every answer carries.
    app.add_middleware(RequestLimitsMiddleware)
    app.add_middleware(InternalErrorMiddleware)
    app.add_middleware(CorrelationIdMiddleware)
    install_problem_handlers(app)
    install_failure_handlers(app)
    app.include_router(health_router)
    instrument(app, title)  # /prometheus and the request latency histogram
    return app
