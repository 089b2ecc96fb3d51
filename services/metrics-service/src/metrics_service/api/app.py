from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import httpx
from fastapi import FastAPI
from territory_shared.api.auth import ServiceCredentials
from territory_shared.api.factory import service_app
from territory_shared.runtime import Bus, ServiceRuntime

from metrics_service.api.access import ACCESS
from metrics_service.api.alerts import router as alerts_router
from metrics_service.api.consistency import router as consistency_router
from metrics_service.api.counts import router as counts_router
from metrics_service.api.metrics import router as metrics_router
from metrics_service.api.quotas import router as quotas_router
from metrics_service.clients.assignment import HttpAssignmentClient
from metrics_service.clients.geo import HttpGeoClient
from metrics_service.db.records import INBOX, OUTBOX
from metrics_service.db.unit_of_work import UnitOfWork
from metrics_service.projections import build_handlers
from metrics_service.settings import MetricsSettings
from metrics_service.use_cases.consistency import check_consistency
from metrics_service.use_cases.models import ModelCache
from metrics_service.use_cases.monitor import monitor_once

MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"
log = logging.getLogger(__name__)


def build_runtime(
    settings: MetricsSettings, bus: Bus | None = None, geo_transport: httpx.AsyncBaseTransport | None = None
) -> ServiceRuntime:
    """The runtime; its consumer's handlers read geo-service at ``settings.geo_url`` (or through ``geo_transport``)."""
    credentials = ServiceCredentials(settings.auth, settings.service_name)
    geo = HttpGeoClient(settings.geo_url, credentials, transport=geo_transport, timeout_s=settings.http_timeout_s)
    handlers = build_handlers(settings, geo, ModelCache())
    return ServiceRuntime.build(
        settings, outbox=OUTBOX, inbox=INBOX, migrations_dir=MIGRATIONS, handlers=handlers, bus=bus
    )


def create_app(
    settings: MetricsSettings,
    *,
    bus: Bus | None = None,
    run_workers_in_process: bool = False,
    geo_transport: httpx.AsyncBaseTransport | None = None,
    assignment_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """``geo_transport`` / ``assignment_transport``: in the embedded mode, ``httpx.ASGITransport(app=...)`` of the
    service in the same process instead of ``METRICS_GEO_URL`` / ``METRICS_ASSIGNMENT_URL``."""
    app = service_app(
        lambda: build_runtime(settings, bus, geo_transport),
        title="metrics-service",
        description="Balance, workload, market gap and scenario comparison, kept current from events.",
        access=ACCESS,
        run_workers_in_process=run_workers_in_process,
        on_start=lambda app, runtime: _start(app, runtime, assignment_transport),
    )
    app.include_router(counts_router)
    app.include_router(metrics_router)
    app.include_router(consistency_router)
    app.include_router(alerts_router)
    app.include_router(quotas_router)
    return app


async def _start(  # type: ignore[no-untyped-def]
    app: FastAPI, runtime: ServiceRuntime, assignment_transport: httpx.AsyncBaseTransport | None
):
    app.state.models = ModelCache()
    settings: MetricsSettings = runtime.settings  # type: ignore[assignment]
    credentials = ServiceCredentials(settings.auth, settings.service_name)
    app.state.assignment = HttpAssignmentClient(
        settings.assignment_url, credentials, transport=assignment_transport, timeout_s=settings.http_timeout_s
    )
    stop = asyncio.Event()

    async def monitor() -> None:
        while not stop.is_set():
            try:
                await monitor_once(
                    lambda: UnitOfWork(runtime.sessions, runtime.outbox_written),
                    app.state.models,
                    settings.balance_metrics,
                    settings.balance_tolerance,
                )
                await check_consistency(runtime.sessions, app.state.models, app.state.assignment)
            except Exception:  # noqa: BLE001 - monitoring retries at its next tick
                log.warning("metrics monitor failed; it will retry", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), settings.monitor_interval_s)

    task = asyncio.create_task(monitor())

    async def cleanup() -> None:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(task, 10)
        await app.state.assignment.close()

    return cleanup
