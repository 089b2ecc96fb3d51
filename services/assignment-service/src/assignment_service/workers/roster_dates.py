"""The roster-dates worker: every ``roster_dates_interval_s`` it applies the roster entries whose first day or
end has come (``use_cases/roster_dates.py``).

It runs beside the outbox relay and the webhook worker (``assignment-service relay``) and in the embedded
process; one pass runs when it starts, so dates that came while it was down are applied at once. Several may
run: each date is claimed by a conditional update in the transaction that applies it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from assignment_service.db.unit_of_work import UnitOfWork
from assignment_service.use_cases.roster_dates import apply_due_roster_dates

log = logging.getLogger(__name__)


class RosterDates:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], on_commit: Callable[[], None], *, interval_s: float = 60
    ) -> None:
        self._sessions = sessions
        self._on_commit = on_commit
        self._interval = interval_s

    async def apply_once(self, today: date | None = None) -> int:
        """One pass: answer how many territories were recomputed."""
        return await apply_due_roster_dates(UnitOfWork(self._sessions, self._on_commit), today)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                applied = await self.apply_once()
                if applied:
                    log.info("roster dates applied in %d territories", applied)
            except Exception:  # noqa: BLE001 - a DB outage delays the dates; it must not end the worker
                log.warning("applying roster dates failed a round; will retry", exc_info=True)
            try:
                await asyncio.wait_for(stop.wait(), self._interval)
            except TimeoutError:
                pass
