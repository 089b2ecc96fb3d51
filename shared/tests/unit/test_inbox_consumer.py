"""The inbox consumer's rules, with a fake subscriber and publisher and a SQLite database."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from territory_shared.db.engine import create_engine, create_session_factory
from territory_shared.events.envelope import new_event
from territory_shared.events.geo import TerritoryCreatedV1
from territory_shared.messaging.bus import IncomingMessage, OutgoingMessage
from territory_shared.messaging.inbox import Batched, InboxConsumer
from territory_shared.messaging.tables import inbox_table


class FakeSubscriber:
    def __init__(self, batches: list[list[IncomingMessage]]) -> None:
        self.batches = batches
        self.commits = 0
        self.uncommitted: list[list[IncomingMessage]] = []

    async def poll(self, max_records: int, timeout_s: float) -> list[IncomingMessage]:
        batch = self.batches.pop(0) if self.batches else []
        self.uncommitted.append(batch)
        return batch

    async def commit(self) -> None:
        self.commits += 1
        self.uncommitted = []

    async def rewind(self) -> None:
        self.batches[:0] = [b for b in self.uncommitted if b]
        self.uncommitted = []

    async def close(self) -> None: ...


class FakePublisher:
    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []

    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        self.sent.extend(messages)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None: ...


def incoming(offset: int, value: bytes) -> IncomingMessage:
    return IncomingMessage(topic="geo.territory", partition=0, offset=offset, key="k", value=value)


def created(territory_id: str) -> bytes:
    data = TerritoryCreatedV1(territory_id=territory_id, code="A", name="a", version=1)
    return new_event(
        source="/t", type="geo.territory.created.v1", subject=territory_id, tenant_id="t", data=data
    ).to_bytes()


@pytest.fixture
async def db(tmp_path):
    metadata = MetaData()
    inbox = inbox_table(metadata)
    effects = Table("effects", metadata, Column("n", Integer, primary_key=True), Column("tid", String))
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite'}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield create_session_factory(engine), inbox, effects
    await engine.dispose()


def consumer(db, subscriber, publisher, handler) -> InboxConsumer:
    sessions, inbox, _ = db
    return InboxConsumer(
        name="c",
        session_factory=sessions,
        inbox=inbox,
        subscriber=subscriber,
        dead_letters=publisher,
        dead_letter_topic="c.dead-letter",
        handlers={"geo.territory.created.v1": handler},
        max_attempts=3,
        retry_backoff_s=0,
    )


async def count(db, table) -> int:
    async with db[0]() as s:
        return (await s.execute(select(func.count()).select_from(table))).scalar_one()


async def test_a_batch_is_applied_in_order_and_a_failure_in_the_middle_keeps_the_others(db):
    _, inbox, effects = db

    async def handler(session, event):
        if event.subject == "bad":
            raise ValueError("no")
        await session.execute(insert(effects).values(tid=event.subject))

    sub = FakeSubscriber([[incoming(i, created(s)) for i, s in enumerate(["a", "b", "bad", "c", "d"])]])
    dlq = FakePublisher()
    await consumer(db, sub, dlq, handler).consume_once()
    async with db[0]() as s:
        done = (await s.execute(select(inbox.c.subject, inbox.c.outcome).order_by(inbox.c.seq))).all()
        applied = (await s.execute(select(effects.c.tid).order_by(effects.c.n))).scalars().all()
    assert done == [("a", "applied"), ("b", "applied"), ("bad", "dead-lettered"), ("c", "applied"), ("d", "applied")]
    assert applied == ["a", "b", "c", "d"]
    assert len(dlq.sent) == 1


async def test_a_batched_handler_gets_runs_of_its_type_in_order_and_a_failure_in_one_keeps_the_others(db):
    _, inbox, effects = db
    calls: list[list[str]] = []

    async def apply(session, events):
        calls.append([e.subject for e in events])
        if any(e.subject == "bad" for e in events):
            raise ValueError("no")
        await session.execute(insert(effects), [{"tid": e.subject} for e in events])

    raw = created("a")
    names = ["a", "b", "c", "bad", "d", "e"]
    messages = [incoming(i, raw if s == "a" else created(s)) for i, s in enumerate(names)]
    sub = FakeSubscriber([[*messages, incoming(6, raw)]])
    dlq = FakePublisher()
    await consumer(db, sub, dlq, Batched(apply)).consume_once()
    async with db[0]() as s:
        done = (await s.execute(select(inbox.c.subject, inbox.c.outcome).order_by(inbox.c.seq))).all()
        applied = (await s.execute(select(effects.c.tid).order_by(effects.c.n))).scalars().all()
    # The run failed as a whole; run again with the failed batch's events one by one, it stopped at the
    # culprit; what came before it was applied as one batch, the culprit went the one-at-a-time way (retried,
    # dead-lettered), and the rest came together after it. The copy of "a" at the end is not applied twice.
    singly = [["a"], ["b"], ["c"], ["bad"]]
    assert calls == [names, *singly, ["a", "b", "c"], ["bad"], ["bad"], ["bad"], ["d", "e"]]
    assert applied == ["a", "b", "c", "d", "e"]
    assert ("bad", "dead-lettered") in done and len(dlq.sent) == 1
    assert sorted(s for s, o in done if o == "applied") == ["a", "b", "c", "d", "e"]


async def test_an_event_delivered_twice_is_applied_once(db):
    _, _, effects = db

    async def handler(session, event):
        await session.execute(insert(effects).values(tid=event.subject))

    raw = created("t1")
    sub = FakeSubscriber([[incoming(0, raw), incoming(1, raw)], [incoming(0, raw)]])
    c = consumer(db, sub, FakePublisher(), handler)
    assert await c.consume_once() == 2
    assert await c.consume_once() == 1
    assert await count(db, effects) == 1
    assert sub.commits == 2


async def test_a_failing_event_is_retried_then_dead_lettered_and_the_next_one_applied(db):
    _, inbox, effects = db
    attempts = []

    async def handler(session, event):
        attempts.append(event.subject)
        await session.execute(insert(effects).values(tid=event.subject))
        if event.subject == "poison":
            raise ValueError("cannot apply")

    dlq = FakePublisher()
    sub = FakeSubscriber([[incoming(0, created("poison")), incoming(1, created("good"))]])
    await consumer(db, sub, dlq, handler).consume_once()
    # Once in the batch's transaction, then max_attempts times on its own; then the next one.
    assert attempts == ["poison"] * 4 + ["good"]
    assert await count(db, effects) == 1  # the failed tries rolled back their effects
    assert [m.topic for m in dlq.sent] == ["c.dead-letter"]
    assert "ValueError: cannot apply" in dlq.sent[0].headers["dlq-reason"]
    assert dlq.sent[0].headers["dlq-original-offset"] == "0"
    async with db[0]() as s:
        outcomes = (await s.execute(select(inbox.c.subject, inbox.c.outcome).order_by(inbox.c.seq))).all()
    assert outcomes == [("poison", "dead-lettered"), ("good", "applied")]
    assert sub.commits == 1


async def test_a_message_that_is_not_a_cloudevent_goes_straight_to_the_dead_letter_topic(db):
    async def handler(session, event):
        raise AssertionError("never called")

    dlq = FakePublisher()
    await consumer(db, FakeSubscriber([[incoming(0, b"{not json")]]), dlq, handler).consume_once()
    assert len(dlq.sent) == 1 and "not a valid CloudEvent" in dlq.sent[0].headers["dlq-reason"]


async def test_a_passing_failure_sends_nothing_to_the_dead_letter_topic_and_the_batch_comes_again(db):
    from territory_shared.api.problems import ServiceUnavailable

    _, inbox, effects = db
    down = {"geo": True}

    async def handler(session, event):
        if down["geo"]:
            raise ServiceUnavailable("geo-service did not answer")
        await session.execute(insert(effects).values(tid=event.subject))

    sub = FakeSubscriber([[incoming(0, created("a")), incoming(1, created("b"))]])
    dlq = FakePublisher()
    c = consumer(db, sub, dlq, handler)
    with pytest.raises(ServiceUnavailable):
        await c.consume_once()
    assert sub.commits == 0 and dlq.sent == [] and await count(db, inbox) == 0
    await sub.rewind()
    down["geo"] = False
    assert await c.consume_once() == 2
    assert await count(db, effects) == 2 and sub.commits == 1 and dlq.sent == []
