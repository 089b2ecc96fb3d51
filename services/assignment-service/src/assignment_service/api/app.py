from __future__ import annotations

from pathlib import Path

from assignment_service.db.records import INBOX, OUTBOX
from assignment_service.settings import AssignmentSettings
from fastapi import FastAPI
from territory_shared.api.factory import service_app
from territory_shared.runtime import Bus, ServiceRuntime

MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"


def build_runtime(settings: AssignmentSettings, bus: Bus | None = None) -> ServiceRuntime:
    return ServiceRuntime.build(settings, outbox=OUTBOX, inbox=INBOX, migrations_dir=MIGRATIONS, bus=bus)


def create_app(
    settings: AssignmentSettings, *, bus: Bus | None = None, run_workers_in_process: bool = False
) -> FastAPI:
    return service_app(
        lambda: build_runtime(settings, bus),
        title="assignment-service",
        description="Accounts, reps, rules, rep-account assignment, realignment and the territory optimizer.",
        run_workers_in_process=run_workers_in_process,
    )
