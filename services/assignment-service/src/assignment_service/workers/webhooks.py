"""The webhook delivery worker: sends due deliveries, signs each body, backs off while a receiver is down.

It runs beside the outbox relay (``assignment-service relay``) and in the embedded process. Several may run:
on PostgreSQL each claims its rows with ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from assignment_service.db.runs import RunRepository
from assignment_service.use_cases.webhooks import SIGNATURE_HEADER, sign

log = logging.getLogger(__name__)


class WebhookDeliverer:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        http: httpx.AsyncClient | None = None,
        *,
        batch: int = 50,
        base_backoff_s: float = 1.0,
        max_backoff_s: float = 300.0,
        idle_wait_s: float = 0.2,
    ) -> None:
        self._sessions = sessions
        self._http = http or httpx.AsyncClient(timeout=10)
        self._batch = batch
        self._base = base_backoff_s
        self._max = max_backoff_s
        self._idle = idle_wait_s

    async def deliver_once(self) -> int:
        """Try every due delivery once; return how many were delivered."""
        delivered = 0
        async with self._sessions() as session, session.begin():
            runs = RunRepository(session)
            due = await runs.due_deliveries(datetime.now(UTC), self._batch)
            for d in due:
                error = await self._post(d.url, d.secret, d.payload, d.event_id, d.event_type)
                now = datetime.now(UTC)
                if error is None:
                    delivered += 1
                    await runs.mark_delivery(
                        d.seq, status="delivered", attempts=d.attempts + 1, delivered_at=now, last_error=None
                    )
                else:
                    wait = min(self._max, self._base * 2**d.attempts)
                    await runs.mark_delivery(
                        d.seq,
                        attempts=d.attempts + 1,
                        last_error=error[:1000],
                        next_attempt_at=now + timedelta(seconds=wait),
                    )
        return delivered

    async def _post(self, url: str, secret: str, body: bytes, event_id: str, event_type: str) -> str | None:
        headers = {
            "content-type": "application/cloudevents+json",
            SIGNATURE_HEADER: sign(secret, bytes(body)),
            "X-Territory-Event-Id": event_id,
            "X-Territory-Event-Type": event_type,
        }
        try:
            r = await self._http.post(url, content=bytes(body), headers=headers)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
        return None if 200 <= r.status_code < 300 else f"HTTP {r.status_code}"

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                sent = await self.deliver_once()
            except Exception:  # noqa: BLE001 - a DB outage delays deliveries; it must not end the worker
                log.warning("webhook delivery failed a round; will retry", exc_info=True)
                sent = 0
            if sent < self._batch:
                try:
                    await asyncio.wait_for(stop.wait(), self._idle)
                except TimeoutError:
                    pass

    async def close(self) -> None:
        await self._http.aclose()
