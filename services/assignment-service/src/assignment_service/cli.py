"""``assignment-service api|relay|consumer|migrate``: the processes of assignment-service in the distributed mode.

The relay process also runs the webhook delivery worker (both drain what the API and consumer committed) and
the roster-dates worker (roster entries take effect on their dates).
"""

from __future__ import annotations

import asyncio
import sys

from territory_shared.cli import service_main
from territory_shared.logs import configure_logging
from territory_shared.workers import migrate_when_reachable, run_relay

from assignment_service.api.app import build_runtime, create_app, roster_dates_worker, webhook_deliverer
from assignment_service.settings import AssignmentSettings


async def _relay_and_webhooks(settings: AssignmentSettings) -> None:
    runtime = build_runtime(settings)
    stop = asyncio.Event()
    # Before the webhook worker reads its tables (run_relay's own pass is then a no-op); a database that is not
    # up yet is waited for, as the relay waits for it.
    if settings.run_migrations_on_start and not await migrate_when_reachable(runtime, stop):
        return
    deliverer = webhook_deliverer(runtime)
    tasks = [asyncio.create_task(deliverer.run(stop)), asyncio.create_task(roster_dates_worker(runtime).run(stop))]
    try:
        await run_relay(runtime)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        await deliverer.close()


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["relay"]:
        settings = AssignmentSettings()
        configure_logging(f"{settings.service_name}-relay", settings.log_level, settings.log_json)
        asyncio.run(_relay_and_webhooks(settings))
        return
    service_main("assignment-service", AssignmentSettings, create_app, build_runtime, default_port=8002, argv=argv)


if __name__ == "__main__":
    main()
