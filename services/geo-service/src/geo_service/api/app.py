from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from territory_shared.api.factory import service_app
from territory_shared.api.jobs import router as jobs_router
from territory_shared.jobs import JobRunner
from territory_shared.runtime import Bus, ServiceRuntime

from geo_service.api.access import ACCESS
from geo_service.api.alignments import router as alignments_router
from geo_service.api.layers import router as layers_router
from geo_service.api.locate import router as locate_router
from geo_service.api.territories import router as territories_router
from geo_service.db.records import INBOX, JOBS, OUTBOX
from geo_service.settings import GeoSettings
from geo_service.spatial_index import IndexCache

MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"


def build_runtime(settings: GeoSettings, bus: Bus | None = None) -> ServiceRuntime:
    return ServiceRuntime.build(settings, outbox=OUTBOX, inbox=INBOX, migrations_dir=MIGRATIONS, bus=bus)


def create_app(settings: GeoSettings, *, bus: Bus | None = None, run_workers_in_process: bool = False) -> FastAPI:
    app = service_app(
        lambda: build_runtime(settings, bus),
        title="geo-service",
        description="Unit layers, alignments (scenarios), territories and their hierarchy.",
        access=ACCESS,
        run_workers_in_process=run_workers_in_process,
        on_start=_start,
    )
    for router in (layers_router, alignments_router, territories_router, locate_router, jobs_router):
        app.include_router(router)
    return app


async def _start(app: FastAPI, runtime: ServiceRuntime):  # type: ignore[no-untyped-def]
    app.state.index_cache = IndexCache()
    jobs = app.state.jobs = JobRunner(runtime.sessions, JOBS)
    await jobs.mark_interrupted()
    return jobs.cancel_all
