"""Process entry points for a service's outbox relay and inbox consumer (the distributed mode).

A worker started before its database or broker answers waits for them (retrying with a capped, doubling delay,
each try logged) and reports not ready meanwhile, then starts working on its own; a later outage is retried by the
relay's and the consumer's own loops. Neither ever exits for a dependency that is away.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Sequence
from typing import Protocol

from territory_shared.db.errors import is_database_unavailable
from territory_shared.events.contracts import topics
from territory_shared.messaging.kafka_bus import is_broker_unavailable
from territory_shared.observability import worker_metrics
from territory_shared.retrying import until_done
from territory_shared.runtime import ServiceRuntime
from territory_shared.worker_probe import WorkerProbe


class Worker(Protocol):
    async def run(self, stop: asyncio.Event) -> None: ...


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def migrate_when_reachable(runtime: ServiceRuntime, stop: asyncio.Event) -> bool:
    """Migrate the database, waiting for it as long as it cannot be reached; False if stopped first.

    A migration that fails for another reason is a fault to fix, not to wait out: it propagates.
    """
    return await until_done("migrate the database", runtime.migrate, passing=is_database_unavailable, stop=stop)


async def _ready(runtime: ServiceRuntime, needed: Sequence[str], stop: asyncio.Event, probe: WorkerProbe) -> bool:
    if runtime.settings.run_migrations_on_start:
        probe.waiting("database")
        if not await migrate_when_reachable(runtime, stop):
            return False
    probe.waiting("broker")
    return await until_done(
        "create the topics", lambda: runtime.bus.ensure_topics(needed), passing=is_broker_unavailable, stop=stop
    )


async def _run(runtime: ServiceRuntime, process: str, needed: Sequence[str], make: Callable[[], Worker]) -> None:
    stop = _stop_on_signals()  # before waiting: a process told to stop while it waits stops at once
    try:
        async with worker_metrics(runtime, process) as probe:
            if await _ready(runtime, needed, stop, probe):
                probe.working()
                await make().run(stop)
    finally:
        await runtime.close()


async def run_relay(runtime: ServiceRuntime) -> None:
    await _run(runtime, "relay", topics(), runtime.make_relay)


async def run_consumer(runtime: ServiceRuntime) -> None:
    await _run(runtime, "consumer", [*topics(), runtime.settings.dead_letter_topic], runtime.make_consumer)
