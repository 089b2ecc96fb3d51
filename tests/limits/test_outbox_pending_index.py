"""Each service's relay reads its next batch through the outbox's pending index: with many rows pending (a broker
outage, a realignment's 100,000 events) the index on published_at alone made it sort every pending row for each
batch it sent."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import MetaData, insert, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from territory_shared.db.migrate import upgrade_to_head
from territory_shared.messaging.outbox import next_pending
from territory_shared.messaging.tables import outbox_table

from tests.support.aio import run_coroutine
from tests.support.postgres import async_url, create_database, drop_database

SERVICES = Path(__file__).resolve().parents[2] / "services"
PUBLISHED = 5_000
PENDING = 20_000
BATCH = 500


async def _plan(url: str) -> tuple[str, list[int]]:
    """Fill the outbox (PUBLISHED rows sent, then PENDING not), then EXPLAIN the relay's read of one batch; return
    the plan and the rows' seq the read returns."""
    outbox = outbox_table(MetaData())
    engine = create_async_engine(url, poolclass=NullPool)
    now = datetime.now(UTC)

    def row(i: int, published: bool) -> dict[str, object]:
        return {
            "event_id": f"e{i}",
            "topic": "t",
            "key": "k",
            "event_type": "x",
            "payload": b"{}",
            "created_at": now,
            "published_at": now if published else None,
        }

    try:
        async with engine.begin() as conn:
            await conn.execute(insert(outbox), [row(i, True) for i in range(PUBLISHED)])
            await conn.execute(insert(outbox), [row(PUBLISHED + i, False) for i in range(PENDING)])
        async with engine.connect() as conn:
            await conn.execute(text("ANALYZE outbox"))
            query = next_pending(outbox, None, BATCH)
            compiled = query.compile(engine.sync_engine, compile_kwargs={"literal_binds": True})
            explain = "EXPLAIN QUERY PLAN" if engine.dialect.name == "sqlite" else "EXPLAIN"
            plan = "\n".join(str(r[-1]) for r in (await conn.execute(text(f"{explain} {compiled}"))).all())
            rows = [r.seq for r in (await conn.execute(query)).all()]
        return plan, rows
    finally:
        await engine.dispose()


@pytest.mark.parametrize("service", ["geo-service", "assignment-service", "metrics-service"])
def test_the_relays_read_uses_the_pending_index_after_migrations(service: str) -> None:
    database = create_database("outbox_index")
    try:
        url = async_url(database)
        upgrade_to_head(SERVICES / service / "migrations", url)
        plan, rows = run_coroutine(_plan(url))
        assert "ix_outbox_pending" in plan and "Sort" not in plan, plan
        assert rows == list(range(PUBLISHED + 1, PUBLISHED + BATCH + 1))  # seq starts at 1
    finally:
        drop_database(database)


@pytest.mark.parametrize("service", ["geo-service", "assignment-service", "metrics-service"])
def test_the_embedded_databases_have_the_pending_index_too(service: str, tmp_path: Path) -> None:
    """On SQLite seq is the rowid, and with few rows published the planner rightly walks it; the index is there for
    when the published rows before the first pending one are many."""
    path = tmp_path / "db.sqlite"
    upgrade_to_head(SERVICES / service / "migrations", f"sqlite+aiosqlite:///{path}")
    with sqlite3.connect(path) as conn:
        (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'ix_outbox_pending'").fetchone()
    assert "(seq)" in sql and "published_at IS NULL" in sql, sql
