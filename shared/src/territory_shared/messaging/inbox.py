"""Idempotent inbox consumer: each event's effect and its inbox row commit together, offsets after.

An event whose handler keeps failing is retried a bounded number of times, then sent to the
service's dead-letter topic (with the reason in its headers), recorded in the inbox as
``dead-lettered`` and passed over, so one poison message never stalls the partition.

A passing failure (the database restarting, a deadlock, a service the handler asks being down) is not the
event's fault: nothing is committed, the subscriber goes back to its committed position and the batch comes
again after a pause, for as long as the failure lasts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime

from pydantic import ValidationError
from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from territory_shared.actor import acting_as
from territory_shared.db.errors import is_passing
from territory_shared.events.contracts import contract_for
from territory_shared.events.envelope import CloudEvent
from territory_shared.logs import correlation_id
from territory_shared.messaging.bus import IncomingMessage, OutgoingMessage, Publisher, Subscriber
from territory_shared.process_metrics import event_dead_lettered, events_processed

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, CloudEvent], Awaitable[None]]


class Batched:
    """A handler that applies consecutive events of its type together (one query per table, not per event).

    Events counted by the hundred thousand (every moved account of a realignment) would otherwise cost a few
    round trips each. The consumer hands it each run of consecutive events of its type, in order, inside the
    run's transaction; called with one event it is an ordinary handler (the one-at-a-time path uses that).
    """

    def __init__(self, apply: Callable[[AsyncSession, Sequence[CloudEvent]], Awaitable[None]]) -> None:
        self.apply = apply

    async def __call__(self, session: AsyncSession, event: CloudEvent) -> None:
        await self.apply(session, [event])


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
        start = 0
        while start < len(messages):
            # Apply as long a run as possible in one transaction; a message that fails stops the run
            # and takes the one-at-a-time path (retries, then dead letter) before the run resumes
            # after it, so events of one key are still applied in order.
            start = await self._apply_run(messages, start, len(messages))
            if start < len(messages):
                await self._process(messages[start])
                start += 1
        if messages:
            await self._subscriber.commit()
            events_processed(self.name, len(messages))
        return len(messages)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.consume_once()
            except Exception:  # noqa: BLE001 - keep consuming through broker or DB outages; nothing is committed
                log.warning("consumer %s failed a batch; it will be redelivered", self.name, exc_info=True)
                await asyncio.sleep(1.0)
                await self._rewind()

    async def _rewind(self) -> None:
        """Back to the committed position, so the batch that failed is polled again rather than skipped."""
        try:
            await self._subscriber.rewind()
        except Exception:  # noqa: BLE001 - the broker may be down too; the next round tries again
            log.warning("consumer %s could not rewind yet", self.name, exc_info=True)

    async def _apply_run(
        self, messages: Sequence[IncomingMessage], start: int, end: int, singly_from: int | None = None
    ) -> int:
        """Apply ``messages[start:end]`` in one transaction; return the index of the first one not applied.

        Events from ``singly_from`` on go to their handlers one by one, batched types too: after a batch failed,
        so the culprit is found in one more run instead of one run per event of the batch.
        """
        events: list[CloudEvent] = []
        for message in messages[start:end]:
            try:
                events.append(CloudEvent.from_bytes(message.value))
            except ValidationError:
                break  # an unparseable message ends the run; the one-at-a-time path dead-letters it
        failed: int | None = None
        failed_batch = False
        async with self._sessions() as session:
            try:
                async with session.begin():
                    seen = await self._seen(session, [e.id for e in events])
                    applied: list[CloudEvent] = []
                    for offset, group in self._groups(events, seen, start, singly_from):
                        try:
                            if len(group) == 1:
                                await self._run_handler(session, group[0])
                            else:
                                await self._run_batch(session, group)
                        except Exception as exc:
                            if not is_passing(exc):
                                failed, failed_batch = start + offset, len(group) > 1
                            raise
                        seen.update(e.id for e in group)
                        applied.extend(group)
                    await self._record(session, applied, "applied", None)
            except Exception:
                if failed is None:
                    raise  # the database, not a handler: nothing is committed and the batch comes again
                if failed_batch:
                    return await self._apply_run(messages, start, end, singly_from=failed)
                # The whole run rolled back: apply what came before the culprit again, then stop at it.
                return await self._apply_run(messages, start, failed) if failed > start else failed
        return start + len(events)

    def _groups(
        self, events: Sequence[CloudEvent], seen: set[str], start: int, singly_from: int | None
    ) -> list[tuple[int, list[CloudEvent]]]:
        """The events not seen yet, in order: consecutive ones of a ``Batched`` type together, the others alone;
        each with the offset of its first event (where a failing group stops the run)."""
        groups: list[tuple[int, list[CloudEvent]]] = []
        taken = set(seen)
        for offset, event in enumerate(events):
            if event.id in taken:
                continue  # applied before, or delivered twice within this batch
            taken.add(event.id)
            last = groups[-1][1] if groups else None
            batched = isinstance(self._handlers.get(event.type), Batched)
            if singly_from is not None and start + offset >= singly_from:
                batched = False
            if batched and last is not None and last[-1].type == event.type:
                last.append(event)
            else:
                groups.append((offset, [event]))
        return groups

    async def _run_batch(self, session: AsyncSession, events: list[CloudEvent]) -> None:
        handler = self._handlers[events[0].type]
        assert isinstance(handler, Batched)
        token = correlation_id.set(events[0].correlationid or events[0].id)
        try:
            # A batch is one event type from one partition; its first event's actor stands for the batch.
            with acting_as(events[0].actor):
                await handler.apply(session, events)
        finally:
            correlation_id.reset(token)

    async def _run_handler(self, session: AsyncSession, event: CloudEvent) -> None:
        token = correlation_id.set(event.correlationid or event.id)
        try:
            handler = self._handlers.get(event.type)
            if handler is not None:  # types this service does not use are recorded and passed over
                with acting_as(event.actor):  # what the handler changes was caused by whoever made the event
                    await handler(session, event)
        finally:
            correlation_id.reset(token)

    async def _seen(self, session: AsyncSession, event_ids: Sequence[str]) -> set[str]:
        if not event_ids:
            return set()
        rows = await session.execute(
            select(self._inbox.c.event_id).where(
                self._inbox.c.consumer == self.name, self._inbox.c.event_id.in_(event_ids)
            )
        )
        return set(rows.scalars())

    async def _process(self, message: IncomingMessage) -> None:
        """One message on its own: bounded retries, then the dead-letter topic."""
        try:
            event = CloudEvent.from_bytes(message.value)
        except ValidationError as exc:
            await self._dead_letter(message, None, f"not a valid CloudEvent: {exc.errors()[0]['msg']}")
            return
        error = ""
        for attempt in range(1, self._max_attempts + 1):
            try:
                async with self._sessions() as session, session.begin():
                    if not await self._seen(session, [event.id]):
                        await self._run_handler(session, event)
                        await self._record(session, [event], "applied", None)
                return
            except Exception as exc:  # noqa: BLE001 - any handler failure is retried, then dead-lettered
                if is_passing(exc):
                    raise  # not the event's fault: the whole batch comes again
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
        await self._dead_letter(message, event, error)

    async def _record(
        self, session: AsyncSession, events: Sequence[CloudEvent], outcome: str, error: str | None
    ) -> None:
        if not events:
            return
        now = datetime.now(UTC)
        await session.execute(
            insert(self._inbox),
            [
                {
                    "consumer": self.name,
                    "event_id": e.id,
                    "event_type": e.type,
                    "subject": e.subject,
                    "outcome": outcome,
                    "error": error,
                    "processed_at": now,
                }
                for e in events
            ],
        )

    async def _dead_letter(self, message: IncomingMessage, event: CloudEvent | None, reason: str) -> None:
        log.error("dead-lettering %s/%s@%s: %s", message.topic, message.partition, message.offset, reason)
        event_dead_lettered(self.name)
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
                if not await self._seen(session, [event.id]):
                    await self._record(session, [event], "dead-lettered", reason[:1000])


def topics_of(handlers: Mapping[str, Handler]) -> Sequence[str]:
    return sorted({contract_for(t).topic for t in handlers})
