"""The schedule worker: wakes every ``schedule_poll_s`` and publishes the drafts whose time has come.

It runs beside the outbox relay (``geo-service relay``) and in the embedded process. Several may run (replicas):
each due schedule is still published once (``use_cases.publish_due``).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from territory_shared.runtime import ServiceRuntime

from geo_service.db.unit_of_work import UnitOfWork
from geo_service.use_cases.publish_due import publish_due

log = logging.getLogger(__name__)


class SchedulePublisher:
    def __init__(self, runtime: ServiceRuntime, *, poll_s: float, max_attempts: int) -> None:
        self._runtime = runtime
        self._poll_s = poll_s
        self._max_attempts = max_attempts

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._runtime.sessions, self._runtime.outbox_written)

    async def run_once(self, now: datetime | None = None) -> int:
        """One pass: every schedule due at ``now`` (the current time by default); how many were handled."""
        return await publish_due(self._uow, max_attempts=self._max_attempts, now=now)

    async def run(self, stop: asyncio.Event) -> None:
        # The first pass runs at once: what fell due while no worker ran is published on start.
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:  # noqa: BLE001 - a database outage delays publishing; it must not end the worker
                log.warning("scheduled publishing failed a pass; will retry", exc_info=True)
            try:
                await asyncio.wait_for(stop.wait(), self._poll_s)
            except TimeoutError:
                pass
