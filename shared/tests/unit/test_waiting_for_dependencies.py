"""A worker waits for a dependency that is away (a capped, doubling delay between tries) instead of exiting, and
the outbox tells how late its relay is."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import MetaData, insert, update
from territory_shared.db.engine import create_engine, create_session_factory
from territory_shared.messaging.outbox import oldest_pending_age_s
from territory_shared.messaging.tables import outbox_table
from territory_shared.retrying import until_done


class Flaky:
    """Fails with ``error`` the first ``failures`` times it is called."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures, self.error, self.calls = failures, error, 0

    async def __call__(self) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error


async def test_a_dependency_that_comes_back_is_waited_for_with_growing_capped_delays(monkeypatch):
    waits: list[float] = []

    async def fake_sleep(stop: asyncio.Event, seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr("territory_shared.retrying._sleep_or_stop", fake_sleep)
    attempt = Flaky(6, ConnectionRefusedError("no broker"))
    done = await until_done(
        "reach it", attempt, passing=lambda e: isinstance(e, OSError), stop=asyncio.Event(), max_delay_s=4
    )
    assert done and attempt.calls == 7
    assert len(waits) == 6 and all(0.8 * d <= w <= d for w, d in zip(waits, [0.5, 1, 2, 4, 4, 4], strict=True))


async def test_a_failure_that_is_not_passing_is_not_waited_out():
    attempt = Flaky(1, ValueError("a broken migration"))
    with pytest.raises(ValueError):
        await until_done("migrate", attempt, passing=lambda e: isinstance(e, OSError), stop=asyncio.Event())
    assert attempt.calls == 1


async def test_a_process_told_to_stop_while_it_waits_stops_without_the_dependency():
    stop = asyncio.Event()
    attempt = Flaky(10**6, ConnectionRefusedError("no database"))
    asyncio.get_running_loop().call_later(0.2, stop.set)
    assert not await asyncio.wait_for(
        until_done("migrate", attempt, passing=lambda e: isinstance(e, OSError), stop=stop, first_delay_s=60), 5
    )
    assert attempt.calls == 1


async def test_the_outbox_reports_the_age_of_its_oldest_pending_row_and_zero_when_none_waits(tmp_path):
    metadata = MetaData()
    outbox = outbox_table(metadata)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'outbox.sqlite'}")
    now = datetime.now(UTC)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
            await conn.execute(
                insert(outbox),
                [
                    dict(event_id=f"e{i}", topic="t", key="k", event_type="x", payload=b"{}", created_at=at)
                    for i, at in enumerate([now - timedelta(seconds=90), now - timedelta(seconds=30), now])
                ],
            )
            await conn.execute(update(outbox).where(outbox.c.event_id == "e0").values(published_at=now))
        sessions = create_session_factory(engine)
        async with sessions() as session:
            assert await oldest_pending_age_s(session, outbox, now) == pytest.approx(30, abs=1e-3)
        async with engine.begin() as conn:
            await conn.execute(update(outbox).values(published_at=now))
        async with sessions() as session:
            assert await oldest_pending_age_s(session, outbox, now) == 0
    finally:
        await engine.dispose()
