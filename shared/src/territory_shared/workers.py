"""Process entry points for a service's outbox relay and inbox consumer (the distributed mode)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

from territory_shared.events.contracts import topics
from territory_shared.observability import worker_metrics
from territory_shared.runtime import ServiceRuntime


async def _until_signalled(work: Callable[[asyncio.Event], object], runtime: ServiceRuntime) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await work(stop)  # type: ignore[misc]
    finally:
        await runtime.close()


async def run_relay(runtime: ServiceRuntime) -> None:
    if runtime.settings.run_migrations_on_start:
        await runtime.migrate()
    await runtime.bus.ensure_topics(topics())
    async with worker_metrics(runtime, "relay"):
        await _until_signalled(runtime.make_relay().run, runtime)


async def run_consumer(runtime: ServiceRuntime) -> None:
    if runtime.settings.run_migrations_on_start:
        await runtime.migrate()
    await runtime.bus.ensure_topics([*topics(), runtime.settings.dead_letter_topic])
    async with worker_metrics(runtime, "consumer"):
        await _until_signalled(runtime.make_consumer().run, runtime)
