from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from territory_shared.api.factory import service_app
from territory_shared.runtime import Bus, ServiceRuntime

from geo_service.api.territories import router as territories_router
from geo_service.db.records import INBOX, OUTBOX
from geo_service.settings import GeoSettings

MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"


def build_runtime(settings: GeoSettings, bus: Bus | None = None) -> ServiceRuntime:
    return ServiceRuntime.build(settings, outbox=OUTBOX, inbox=INBOX, migrations_dir=MIGRATIONS, bus=bus)


def create_app(settings: GeoSettings, *, bus: Bus | None = None, run_workers_in_process: bool = False) -> FastAPI:
    app = service_app(
        lambda: build_runtime(settings, bus),
        title="geo-service",
        description="Unit layers, alignments (scenarios), territories and their hierarchy.",
        run_workers_in_process=run_workers_in_process,
    )
    app.include_router(territories_router)
    return app
