"""``geo-service api|relay|consumer|migrate``: the processes of geo-service in the distributed mode.

The relay process also runs the schedule worker, which publishes drafts when their scheduled time comes.
"""

from __future__ import annotations

import asyncio
import sys

from territory_shared.cli import service_main
from territory_shared.logs import configure_logging
from territory_shared.workers import migrate_when_reachable, run_relay

from geo_service.api.app import build_runtime, create_app, schedule_publisher
from geo_service.settings import GeoSettings


async def _relay_and_schedules(settings: GeoSettings) -> None:
    runtime = build_runtime(settings)
    stop = asyncio.Event()
    # Before the schedule worker reads its tables (run_relay's own pass is then a no-op); a database that is not
    # up yet is waited for, as the relay waits for it.
    if settings.run_migrations_on_start and not await migrate_when_reachable(runtime, stop):
        return
    task = asyncio.create_task(schedule_publisher(runtime).run(stop))
    try:
        await run_relay(runtime)
    finally:
        stop.set()
        await task


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["relay"]:
        settings = GeoSettings()
        configure_logging(f"{settings.service_name}-relay", settings.log_level, settings.log_json)
        asyncio.run(_relay_and_schedules(settings))
        return
    service_main("geo-service", GeoSettings, create_app, build_runtime, default_port=8001, argv=argv)


if __name__ == "__main__":
    main()
