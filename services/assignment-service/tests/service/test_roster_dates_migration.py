"""Migrating to dated rosters: the dates that their writes applied are marked applied; a date that came later,
which nothing applied, is left for the worker's first pass. Downgrading and upgrading again works."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import NullPool, text
from sqlalchemy.ext.asyncio import create_async_engine
from territory_shared.db.migrate import alembic_config

from tests.support.aio import run_coroutine
from tests.support.databases import database_url, fetch_all  # noqa: F401 - fixture

pytestmark = pytest.mark.postgis

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
NOW = datetime.now(UTC).replace(microsecond=0)
TODAY = NOW.date()


def days(n: int) -> date:
    return TODAY + timedelta(days=n)


ENTRIES = {
    # id: (effective_from, effective_to, created_at, ended_at)
    "started-when-written": (days(-10), None, NOW - timedelta(days=10), None),
    "started-later": (days(-1), None, NOW - timedelta(days=3), None),
    "still-to-come": (days(5), None, NOW - timedelta(days=3), None),
    "ended-when-ended": (days(-30), days(-2), NOW - timedelta(days=30), NOW - timedelta(days=2)),
    "ending-came-later": (days(-30), days(-1), NOW - timedelta(days=30), NOW - timedelta(days=4)),
}


def execute(url: str, sql: str, **params: object) -> None:
    async def run() -> None:
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.begin() as conn:
                await conn.execute(text(sql), params)
        finally:
            await engine.dispose()

    run_coroutine(run())


def test_the_dates_their_writes_applied_are_marked_and_the_others_left_to_the_worker(database_url):  # noqa: F811
    config = alembic_config(MIGRATIONS, database_url)
    command.upgrade(config, "0006")
    for entry_id, (start, end, created, ended) in ENTRIES.items():
        execute(
            database_url,
            "INSERT INTO roster_entries (id, tenant_id, sales_force, territory_code, rep_id, role, effective_from, "
            "effective_to, created_at, ended_at) VALUES (:id, 't', 'field', 'EAST', 'r', 'primary', :start, :end, "
            ":created, :ended)",
            id=entry_id,
            start=start,
            end=end,
            created=created,
            ended=ended,
        )
    command.upgrade(config, "head")
    rows = fetch_all(database_url, "SELECT id, start_applied_at, end_applied_at FROM roster_entries ORDER BY id")
    marked = {r["id"]: (r["start_applied_at"] is not None, r["end_applied_at"] is not None) for r in rows}
    assert marked == {
        "ended-when-ended": (True, True),
        "ending-came-later": (True, False),
        "started-later": (False, False),
        "started-when-written": (True, False),
        "still-to-come": (False, False),
    }
    command.downgrade(config, "0006")
    assert "start_applied_at" not in str(fetch_all(database_url, "SELECT * FROM roster_entries")[0])
    command.upgrade(config, "head")
    assert fetch_all(database_url, "SELECT version_num FROM alembic_version") == [{"version_num": "0007"}]
