from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from metrics_service.api.counts import router as counts_router
from metrics_service.db.records import INBOX, OUTBOX
from metrics_service.projections.territories import HANDLERS
from metrics_service.settings import MetricsSettings
from territory_shared.api.factory import service_app
from territory_shared.runtime import Bus, ServiceRuntime

MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"


def build_runtime(settings: MetricsSettings, bus: Bus | None = None) -> ServiceRuntime:
    return ServiceRuntime.build(
        settings, outbox=OUTBOX, inbox=INBOX, migrations_dir=MIGRATIONS, handlers=HANDLERS, bus=bus
    )


def create_app(settings: MetricsSettings, *, bus: Bus | None = None, run_workers_in_process: bool = False) -> FastAPI:
    app = service_app(
        lambda: build_runtime(settings, bus),
        title="metrics-service",
        description="Balance, workload, market gap and scenario comparison, kept current from events.",
        run_workers_in_process=run_workers_in_process,
    )
    app.include_router(counts_router)
    return app
