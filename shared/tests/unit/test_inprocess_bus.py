"""The in-process bus keeps Kafka's contract: durable publish, per-group positions, redelivery until commit."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from contextlib import closing

import pytest
from territory_shared.messaging.bus import OutgoingMessage
from territory_shared.messaging.inprocess_bus import InProcessBus


def msg(i: int, topic: str = "geo.territory") -> OutgoingMessage:
    return OutgoingMessage(topic=topic, key=f"k{i % 3}", value=f"v{i}".encode(), headers={"n": str(i)})


@pytest.fixture
def path(tmp_path):
    return tmp_path / "bus.sqlite"


async def test_messages_arrive_in_order_with_their_headers(path):
    bus = InProcessBus(path)
    await bus.publisher().publish([msg(i) for i in range(5)])
    got = await bus.subscriber("g", ["geo.territory"]).poll(10, 0.01)
    assert [m.value for m in got] == [f"v{i}".encode() for i in range(5)]
    assert got[2].headers == {"n": "2"} and got[2].key == "k2"


async def test_uncommitted_messages_are_delivered_again_to_the_next_subscriber(path):
    bus = InProcessBus(path)
    await bus.publisher().publish([msg(i) for i in range(4)])
    first = bus.subscriber("g", ["geo.territory"])
    assert len(await first.poll(2, 0.01)) == 2
    await first.commit()
    assert len(await first.poll(10, 0.01)) == 2  # polled, never committed
    await first.close()
    again = await bus.subscriber("g", ["geo.territory"]).poll(10, 0.01)
    assert [m.value for m in again] == [b"v2", b"v3"]


async def test_groups_and_topics_are_independent_and_the_log_survives_a_restart(path):
    bus = InProcessBus(path)
    await bus.publisher().publish([msg(0), msg(1, topic="other")])
    a = bus.subscriber("a", ["geo.territory"])
    assert [m.value for m in await a.poll(10, 0.01)] == [b"v0"]
    await a.commit()
    bus.log.close()
    reopened = InProcessBus(path)
    assert await reopened.subscriber("a", ["geo.territory"]).poll(10, 0.01) == []
    assert [m.value for m in await reopened.subscriber("b", ["geo.territory", "other"]).poll(10, 0.01)] == [
        b"v0",
        b"v1",
    ]


async def test_a_closed_log_opens_again_and_still_wakes_waiting_subscribers(path):
    bus = InProcessBus(path)
    await bus.publisher().publish([msg(0)])
    bus.log.close()
    bus.log.close()  # closing twice is harmless
    with pytest.raises(sqlite3.ProgrammingError):
        await bus.publisher().publish([msg(1)])
    bus.log.open()
    bus.log.open()  # opening an open log keeps it
    subscriber = bus.subscriber("g", ["geo.territory"])
    assert [m.value for m in await subscriber.poll(10, 0.01)] == [b"v0"]
    waiting = asyncio.create_task(subscriber.poll(10, 5))
    await asyncio.sleep(0.05)
    await bus.publisher().publish([msg(2)])
    assert [m.value for m in await asyncio.wait_for(waiting, 2)] == [b"v2"]


async def test_a_publish_cancelled_mid_write_returns_only_once_the_write_is_over(path, monkeypatch):
    bus = InProcessBus(path)
    write = bus.log._append

    def slow_write(messages):  # type: ignore[no-untyped-def]
        time.sleep(0.3)
        write(messages)

    monkeypatch.setattr(bus.log, "_append", slow_write)
    publishing = asyncio.create_task(bus.publisher().publish([msg(0)]))
    await asyncio.sleep(0.05)
    publishing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await publishing
    # The write the thread was doing is over: closing the log now cannot cut it, and the message is in the file.
    bus.log.close()
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("SELECT value FROM messages").fetchall() == [(b"v0",)]
