"""Transactional outbox: write event rows with the change, and a relay that sends them to the bus.

The relay sends pending rows in ``seq`` order, waits for the bus to accept them, then marks them
published. A crash between the two sends a batch again; consumers drop the copies through their
inbox, so nothing is lost and no effect is doubled. On PostgreSQL an advisory lock lets any number
of relay processes run for availability while only one sends at a time, which keeps the order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import BigInteger, Row, Select, Table, any_, bindparam, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from territory_shared.events.contracts import contract_for
from territory_shared.events.envelope import CONTENT_TYPE, CloudEvent
from territory_shared.messaging.bus import OutgoingMessage, Publisher
from territory_shared.process_metrics import outbox_published

log = logging.getLogger(__name__)

# Any fixed number works: it names the lock, and each service has its own database.
_RELAY_LOCK_ID = 0x7E11


def outbox_rows(events: Sequence[CloudEvent]) -> list[dict[str, object]]:
    """The outbox rows of events, for a caller that writes them its own way (e.g. COPY for large batches)."""
    now = datetime.now(UTC)
    return [
        {
            "event_id": e.id,
            "topic": contract_for(e.type).topic,
            "key": e.subject,
            "event_type": e.type,
            "payload": e.to_bytes(),
            "created_at": now,
        }
        for e in events
    ]


async def add_to_outbox(session: AsyncSession, outbox: Table, events: Sequence[CloudEvent]) -> None:
    """Stage events in the caller's transaction; they leave only if that transaction commits."""
    if not events:
        return
    await session.execute(insert(outbox), outbox_rows(events))


async def pending_count(session: AsyncSession, outbox: Table) -> int:
    return int((await session.execute(select(func.count()).where(outbox.c.published_at.is_(None)))).scalar_one())


async def oldest_pending_age_s(session: AsyncSession, outbox: Table, now: datetime | None = None) -> float:
    """Seconds since the oldest pending row was written (0 when none waits): how late the relay is.

    The first pending row by ``seq`` is the oldest, and the pending index finds it without a scan.
    """
    first = select(outbox.c.created_at).where(outbox.c.published_at.is_(None)).order_by(outbox.c.seq).limit(1)
    created: datetime | None = (await session.execute(first)).scalar_one_or_none()
    if created is None:
        return 0.0
    if created.tzinfo is None:  # SQLite hands back naive datetimes; they were written in UTC
        created = created.replace(tzinfo=UTC)
    return max(0.0, ((now or datetime.now(UTC)) - created).total_seconds())


# seq, topic, key, payload
PendingRow = Row[int, str, str, bytes]


def next_pending(outbox: Table, after: int | None, limit: int) -> Select[int, str, str, bytes]:
    """The relay's read: the next pending rows in ``seq`` order (after ``after``: the batch being sent is not
    marked yet). The outbox's pending index (tables.outbox_pending_index) serves it."""
    q = select(outbox.c.seq, outbox.c.topic, outbox.c.key, outbox.c.payload).where(outbox.c.published_at.is_(None))
    if after is not None:
        q = q.where(outbox.c.seq > after)
    return q.order_by(outbox.c.seq).limit(limit)


class OutboxRelay:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        outbox: Table,
        publisher: Publisher,
        batch_size: int = 500,
        idle_wait_s: float = 0.05,
        max_backoff_s: float = 5.0,
    ) -> None:
        self._sessions = session_factory
        self._outbox = outbox
        self._publisher = publisher
        self._batch_size = batch_size
        self._idle_wait_s = idle_wait_s
        self._max_backoff_s = max_backoff_s
        self._wake = asyncio.Event()

    def notify(self) -> None:
        """Called after a commit that wrote outbox rows, so the relay need not wait for its next tick."""
        self._wake.set()

    async def relay_once(self) -> int:
        """Send the pending rows, batch after batch, until a batch comes back short; return how many were
        published.

        Pipelined: while the bus takes one batch, the previous one is marked published and the next one read, so
        the database and the broker work at the same time. A batch is marked only once the bus has accepted it,
        and the next one is handed over only after that, which keeps the order. On PostgreSQL a session-level
        advisory lock, held on one connection until the rows run out, lets one relay process send at a time.
        """
        engine: AsyncEngine = self._sessions.kw["bind"]
        sent = 0
        async with engine.connect() as conn:
            postgres = conn.dialect.name == "postgresql"
            if postgres:
                async with conn.begin():
                    locked = (
                        await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _RELAY_LOCK_ID})
                    ).scalar_one()
                if not locked:
                    return 0
            try:
                rows = await self._pending(conn, None)
                marked: Sequence[PendingRow] = []
                while rows:
                    sending = asyncio.ensure_future(self._publish(rows))
                    try:
                        if marked:
                            sent += await self._mark(conn, marked)
                        following = await self._pending(conn, rows[-1].seq) if len(rows) >= self._batch_size else []
                    except BaseException:
                        # The bus's call runs on: wait for it, and drop its outcome (the rows stay pending).
                        await asyncio.wait([sending])
                        if not sending.cancelled():
                            sending.exception()
                        raise
                    await sending
                    marked, rows = rows, following
                if marked:
                    sent += await self._mark(conn, marked)
            finally:
                if postgres:
                    await _unlock(conn)
        return sent

    async def _pending(self, conn: AsyncConnection, after: int | None) -> Sequence[PendingRow]:
        async with conn.begin():
            return (await conn.execute(next_pending(self._outbox, after, self._batch_size))).all()

    async def _publish(self, rows: Sequence[PendingRow]) -> None:
        headers = {"content-type": CONTENT_TYPE}
        await self._publisher.publish(
            [OutgoingMessage(topic=r.topic, key=r.key, value=r.payload, headers=headers) for r in rows]
        )

    async def _mark(self, conn: AsyncConnection, rows: Sequence[PendingRow]) -> int:
        seqs = [r.seq for r in rows]
        if conn.dialect.name == "postgresql":
            # One array parameter: an IN list of thousands of parameters costs more to compile and bind than
            # the update itself.
            sent = self._outbox.c.seq == any_(bindparam("seqs", seqs, type_=ARRAY(BigInteger)))
        else:
            sent = self._outbox.c.seq.in_(seqs)
        async with conn.begin():
            await conn.execute(update(self._outbox).where(sent).values(published_at=datetime.now(UTC)))
        outbox_published(len(rows))
        return len(rows)

    async def run(self, stop: asyncio.Event) -> None:
        backoff = self._idle_wait_s
        while not stop.is_set():
            try:
                sent = await self.relay_once()
                backoff = self._idle_wait_s
            except Exception:  # noqa: BLE001 - a broker or DB outage delays events; it must not end the relay
                log.warning("outbox relay could not publish; will retry", exc_info=True)
                sent = 0
                backoff = min(backoff * 2, self._max_backoff_s)
                await _sleep_or_stop(stop, backoff)
                continue
            if sent < self._batch_size:
                self._wake.clear()
                await _wait_any(stop, self._wake, self._idle_wait_s)


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        pass


async def _wait_any(stop: asyncio.Event, wake: asyncio.Event, seconds: float) -> None:
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()


async def _unlock(conn: AsyncConnection) -> None:
    try:
        async with conn.begin():
            await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _RELAY_LOCK_ID})
    except Exception:
        # A connection that could not release the lock may still hold it: it must not go back to the pool.
        log.warning("outbox relay could not release its lock; dropping the connection", exc_info=True)
        await conn.invalidate()
        raise
