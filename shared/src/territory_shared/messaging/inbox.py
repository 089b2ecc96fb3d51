"""Idempotent inbox consumer: each event's effect and its inbox row commit together, offsets after.

An event whose handler keeps failing is retried a bounded number of times, then sent to the
service's dead-letter topic (with the reason in its headers), recorded in the inbox as
``dead-lettered`` and passed over, so one poison message never stalls the partition.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime

from pydantic import ValidationError
from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from territory_shared.events.contracts import contract_for
from territory_shared.events.envelope import CloudEvent
from territory_shared.logs import correlation_id
from territory_shared.messaging.bus import IncomingMessage, OutgoingMessage, Publisher, Subscriber

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, CloudEvent], Awaitable[None]]


class InboxConsumer:
    def __init__(
        self,
        *,
        name: str,
        session_factory: async_sessionmaker[AsyncSession],
        inbox: Table,
        subscriber: Subscriber,
        dead_letters: Publisher,
        dead_letter_topic: str,
        handlers: Mapping[str, Handler],
        max_attempts: int = 5,
        retry_backoff_s: float = 0.05,
        batch_size: int = 500,
    ) -> None:
        self.name = name
        self._sessions = session_factory
        self._inbox = inbox
        self._subscriber = subscriber
        self._dead_letters = dead_letters
        self._dead_letter_topic = dead_letter_topic
        self._handlers = handlers
        self._max_attempts = max_attempts
        self._retry_backoff_s = retry_backoff_s
        self._batch_size = batch_size

    async def consume_once(self, timeout_s: float = 0.5) -> int:
        """Process one polled batch and commit its offsets; return how many messages it held."""
        messages = await self._subscriber.poll(self._batch_size, timeout_s)
        for message in messages:
            await self._process(message)
        if messages:
            await self._subscriber.commit()
        return len(messages)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.consume_once()
            except Exception:  # noqa: BLE001 - keep consuming through broker or DB outages; nothing is committed
                log.warning("consumer %s failed a batch; it will be redelivered", self.name, exc_info=True)
                await asyncio.sleep(1.0)

    async def _process(self, message: IncomingMessage) -> None:
        try:
            event = CloudEvent.from_bytes(message.value)
        except ValidationError as exc:
            await self._dead_letter(message, None, f"not a valid CloudEvent: {exc.errors()[0]['msg']}")
            return
        handler = self._handlers.get(event.type)
        error = ""
        for attempt in range(1, self._max_attempts + 1):
            token = correlation_id.set(event.correlationid or event.id)
            try:
                await self._apply(event, handler)
                return
            except Exception as exc:  # noqa: BLE001 - any handler failure is retried, then dead-lettered
                error = f"{type(exc).__name__}: {exc}"
                log.warning(
                    "handler failed for event %s (%s), attempt %d/%d: %s",
                    event.id,
                    event.type,
                    attempt,
                    self._max_attempts,
                    error,
                )
                if attempt < self._max_attempts:
                    await asyncio.sleep(self._retry_backoff_s * 2 ** (attempt - 1))
            finally:
                correlation_id.reset(token)
        await self._dead_letter(message, event, error)

    async def _apply(self, event: CloudEvent, handler: Handler | None) -> bool:
        """Run the handler and record the event in one transaction; False if it was already processed."""
        async with self._sessions() as session, session.begin():
            seen = (
                await session.execute(
                    select(self._inbox.c.seq).where(
                        self._inbox.c.consumer == self.name, self._inbox.c.event_id == event.id
                    )
                )
            ).first()
            if seen is not None:
                log.info("event %s already processed by %s; skipped", event.id, self.name)
                return False
            if handler is not None:  # types this service does not use are recorded and passed over
                await handler(session, event)
            await self._record(session, event, "applied", None)
            return True

    async def _record(self, session: AsyncSession, event: CloudEvent, outcome: str, error: str | None) -> None:
        await session.execute(
            insert(self._inbox).values(
                consumer=self.name,
                event_id=event.id,
                event_type=event.type,
                subject=event.subject,
                outcome=outcome,
                error=error,
                processed_at=datetime.now(UTC),
            )
        )

    async def _dead_letter(self, message: IncomingMessage, event: CloudEvent | None, reason: str) -> None:
        log.error("dead-lettering %s/%s@%s: %s", message.topic, message.partition, message.offset, reason)
        await self._dead_letters.publish(
            [
                OutgoingMessage(
                    topic=self._dead_letter_topic,
                    key=message.key or "",
                    value=message.value,
                    headers={
                        **message.headers,
                        "dlq-reason": reason[:1000],
                        "dlq-consumer": self.name,
                        "dlq-original-topic": message.topic,
                        "dlq-original-partition": str(message.partition),
                        "dlq-original-offset": str(message.offset),
                    },
                )
            ]
        )
        if event is not None:
            async with self._sessions() as session, session.begin():
                already = (
                    await session.execute(
                        select(self._inbox.c.seq).where(
                            self._inbox.c.consumer == self.name, self._inbox.c.event_id == event.id
                        )
                    )
                ).first()
                if already is None:
                    await self._record(session, event, "dead-lettered", reason[:1000])


def topics_of(handlers: Mapping[str, Handler]) -> Sequence[str]:
    return sorted({contract_for(t).topic for t in handlers})
