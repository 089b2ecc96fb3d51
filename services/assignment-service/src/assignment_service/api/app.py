from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import httpx
from fastapi import FastAPI
from territory_shared.api.auth import ServiceCredentials
from territory_shared.api.factory import service_app
from territory_shared.api.jobs import router as jobs_router
from territory_shared.jobs import JobRunner
from territory_shared.runtime import Bus, ServiceRuntime

from assignment_service.api.access import ACCESS
from assignment_service.api.account_clusters import router as account_clusters_router
from assignment_service.api.account_deletions import router as account_deletions_router
from assignment_service.api.accounts import router as accounts_router
from assignment_service.api.assignments import router as assignments_router
from assignment_service.api.deps import ZipTable
from assignment_service.api.design_jobs import router as design_jobs_router
from assignment_service.api.exports import router as exports_router
from assignment_service.api.ownership import router as ownership_router
from assignment_service.api.realignments import router as realignments_router
from assignment_service.api.reps import router as reps_router
from assignment_service.api.rules import router as rules_router
from assignment_service.api.webhooks import router as webhooks_router
from assignment_service.clients.geo import HttpGeoClient
from assignment_service.db.records import INBOX, JOBS, OUTBOX
from assignment_service.settings import AssignmentSettings
from assignment_service.use_cases.handlers import make_handlers
from assignment_service.workers.roster_dates import RosterDates
from assignment_service.workers.webhooks import WebhookDeliverer

MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"


def geo_client_for(settings: AssignmentSettings, geo_http: httpx.AsyncClient | None = None) -> HttpGeoClient:
    credentials = ServiceCredentials(settings.auth, settings.service_name)
    if geo_http is not None:
        return HttpGeoClient(geo_http, credentials)
    return HttpGeoClient.for_url(settings.geo_url, credentials, settings.geo_timeout_s)


def build_runtime(
    settings: AssignmentSettings, bus: Bus | None = None, geo: HttpGeoClient | None = None
) -> ServiceRuntime:
    handlers = make_handlers(geo or geo_client_for(settings))
    return ServiceRuntime.build(
        settings, outbox=OUTBOX, inbox=INBOX, migrations_dir=MIGRATIONS, handlers=handlers, bus=bus
    )


def webhook_deliverer(runtime: ServiceRuntime) -> WebhookDeliverer:
    settings: AssignmentSettings = runtime.settings  # type: ignore[assignment]
    return WebhookDeliverer(
        runtime.sessions, base_backoff_s=settings.webhook_backoff_s, max_backoff_s=settings.webhook_max_backoff_s
    )


def roster_dates_worker(runtime: ServiceRuntime) -> RosterDates:
    settings: AssignmentSettings = runtime.settings  # type: ignore[assignment]
    return RosterDates(runtime.sessions, runtime.outbox_written, interval_s=settings.roster_dates_interval_s)


def create_app(
    settings: AssignmentSettings,
    *,
    bus: Bus | None = None,
    run_workers_in_process: bool = False,
    geo_http: httpx.AsyncClient | None = None,
) -> FastAPI:
    """``geo_http``: how to reach geo-service; embedded, an ``httpx.ASGITransport`` client on its app."""
    geo = geo_client_for(settings, geo_http)

    async def start(app: FastAPI, runtime: ServiceRuntime):  # type: ignore[no-untyped-def]
        app.state.geo = geo
        runtime.dependencies["geo-service"] = geo.answers
        app.state.zips = ZipTable()
        jobs = app.state.jobs = JobRunner(runtime.sessions, JOBS)
        await jobs.mark_interrupted()
        stop = asyncio.Event()
        deliverer = webhook_deliverer(runtime)
        app.state.webhooks = deliverer
        app.state.roster_dates = roster_dates = roster_dates_worker(runtime)
        tasks = (
            [asyncio.create_task(deliverer.run(stop)), asyncio.create_task(roster_dates.run(stop))]
            if run_workers_in_process
            else []
        )

        async def cleanup() -> None:
            stop.set()
            await jobs.cancel_all()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(task, 10)
            await deliverer.close()
            if geo_http is None:
                await geo.close()

        return cleanup

    app = service_app(
        lambda: build_runtime(settings, bus, geo),
        title="assignment-service",
        description="Accounts, reps, rosters, rules and overrides; account -> territory -> rep assignment; "
        "realignment previews, runs, notices and webhooks; territory design jobs (the optimizer).",
        access=ACCESS,
        run_workers_in_process=run_workers_in_process,
        on_start=start,
    )
    for router in (
        accounts_router,
        account_clusters_router,
        account_deletions_router,
        reps_router,
        rules_router,
        assignments_router,
        exports_router,
        ownership_router,
        realignments_router,
        webhooks_router,
        design_jobs_router,
        jobs_router,
    ):
        app.include_router(router)
    return app
