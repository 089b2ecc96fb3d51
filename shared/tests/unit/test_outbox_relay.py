"""The pipelined outbox relay: every pending row sent once, in seq order; a failed batch stays pending."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from sqlalchemy import MetaData, func, insert, select
from territory_shared.db.engine import create_engine, create_session_factory
from territory_shared.messaging.bus import OutgoingMessage
from territory_shared.messaging.outbox import OutboxRelay
from territory_shared.messaging.tables import outbox_table


class RecordingPublisher:
    def __init__(self, fail_on_call: int | None = None) -> None:
        self.sent: list[str] = []
        self.calls = 0
        self.fail_on_call = fail_on_call

    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        self.calls += 1
        if self.calls == self.fail_on_call:
            raise ConnectionError("broker unavailable")
        self.sent += [m.key for m in messages]

    async def ping(self) -> bool:
        return True

    async def close(self) -> None: ...


@pytest.fixture
async def db(tmp_path):
    metadata = MetaData()
    outbox = outbox_table(metadata)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'outbox.sqlite'}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
        now = datetime.now(UTC)
        rows = [
            dict(event_id=f"e{i}", topic="t", key=f"k{i:02d}", event_type="x", payload=b"{}", created_at=now)
            for i in range(23)
        ]
        await conn.execute(insert(outbox), rows)
    yield create_session_factory(engine), outbox
    await engine.dispose()


async def pending(db) -> int:
    sessions, outbox = db
    async with sessions() as s:
        return (await s.execute(select(func.count()).where(outbox.c.published_at.is_(None)))).scalar_one()


async def test_the_relay_sends_every_pending_row_once_in_order_batch_after_batch(db):
    sessions, outbox = db
    publisher = RecordingPublisher()
    assert await OutboxRelay(sessions, outbox, publisher, batch_size=5).relay_once() == 23
    assert publisher.sent == [f"k{i:02d}" for i in range(23)] and publisher.calls == 5
    assert await pending(db) == 0
    assert await OutboxRelay(sessions, outbox, publisher, batch_size=5).relay_once() == 0


async def test_a_batch_the_bus_refused_stays_pending_and_goes_next_time_in_order(db):
    sessions, outbox = db
    publisher = RecordingPublisher(fail_on_call=3)
    relay = OutboxRelay(sessions, outbox, publisher, batch_size=5)
    with pytest.raises(ConnectionError):
        await relay.relay_once()
    assert publisher.sent == [f"k{i:02d}" for i in range(10)]
    assert await pending(db) == 13
    assert await relay.relay_once() == 13
    assert publisher.sent == [f"k{i:02d}" for i in range(23)]
    assert await pending(db) == 0
