from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from fastapi import FastAPI
from territory_shared.api.factory import service_app
from territory_shared.api.jobs import router as jobs_router
from territory_shared.jobs import JobRunner
from territory_shared.runtime import Bus, ServiceRuntime

from geo_service.api.access import ACCESS
from geo_service.api.alignments import router as alignments_router
from geo_service.api.approvals import router as approvals_router
from geo_service.api.layers import router as layers_router
from geo_service.api.locate import router as locate_router
from geo_service.api.schedules import router as schedules_router
from geo_service.api.territories import router as territories_router
from geo_service.api.tiles import router as tiles_router
from geo_service.db.records import INBOX, JOBS, OUTBOX
from geo_service.db.unit_of_work import UnitOfWork
from geo_service.layer_backfill import fill_in_layers
from geo_service.settings import GeoSettings
from geo_service.spatial_index import IndexCache
from geo_service.tile_cache import TileCache
from geo_service.workers.schedules import SchedulePublisher

MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"


def build_runtime(settings: GeoSettings, bus: Bus | None = None) -> ServiceRuntime:
    return ServiceRuntime.build(settings, outbox=OUTBOX, inbox=INBOX, migrations_dir=MIGRATIONS, bus=bus)


def schedule_publisher(runtime: ServiceRuntime) -> SchedulePublisher:
    settings: GeoSettings = runtime.settings  # type: ignore[assignment]
    return SchedulePublisher(runtime, poll_s=settings.schedule_poll_s, max_attempts=settings.schedule_max_attempts)


def create_app(settings: GeoSettings, *, bus: Bus | None = None, run_workers_in_process: bool = False) -> FastAPI:
    """With ``run_workers_in_process`` (the embedded mode) the schedule worker runs in this process too."""

    async def start(app: FastAPI, runtime: ServiceRuntime):  # type: ignore[no-untyped-def]
        app.state.index_cache = IndexCache()

        def sessions() -> UnitOfWork:
            return UnitOfWork(runtime.sessions, runtime.outbox_written)

        tiles = app.state.tile_cache = TileCache(sessions)
        filling = asyncio.create_task(fill_in_layers(sessions, tiles))
        jobs = app.state.jobs = JobRunner(runtime.sessions, JOBS)
        await jobs.mark_interrupted()
        stop = asyncio.Event()
        publisher = app.state.schedules = schedule_publisher(runtime)
        task = asyncio.create_task(publisher.run(stop)) if run_workers_in_process else None

        async def cleanup() -> None:
            stop.set()
            filling.cancel()
            tiles.close()
            with contextlib.suppress(asyncio.CancelledError):
                await filling
            await jobs.cancel_all()
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(task, 10)

        return cleanup

    app = service_app(
        lambda: build_runtime(settings, bus),
        title="geo-service",
        description="Unit layers, alignments (scenarios), territories and their hierarchy; approvals and "
        "scheduled publishing of alignments.",
        access=ACCESS,
        run_workers_in_process=run_workers_in_process,
        on_start=start,
    )
    for router in (
        layers_router,
        tiles_router,
        alignments_router,
        approvals_router,
        schedules_router,
        territories_router,
        locate_router,
        jobs_router,
    ):
        app.include_router(router)
    return app
