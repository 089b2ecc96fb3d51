"""A pytest fixture factory: one database per test module, on SQLite and on PostGIS."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import NullPool, text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support.aio import run_coroutine
from tests.support.postgres import async_url, create_database, drop_database


@pytest.fixture(scope="module", params=["sqlite", "postgis"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "service.sqlite"
        yield f"sqlite+aiosqlite:///{path}"
        return
    name = create_database("test_service")
    try:
        yield async_url(name)
    finally:
        drop_database(name)


def fetch_all(database_url: str, sql: str, **params: object) -> list[dict[str, object]]:
    """Run one query on a service's database (SQLite or PostGIS) from a synchronous test."""
    return fetch_snapshot(database_url, [sql], **params)[0]


def fetch_snapshot(database_url: str, queries: Sequence[str], **params: object) -> list[list[dict[str, object]]]:
    """Run several queries on one snapshot of the database, so their answers agree with each other.

    Separate reads of tables that a consumer keeps changing can mix two states: counters read after the
    rows they count may already include changes the rows did not show yet.
    """

    async def run() -> list[list[dict[str, object]]]:
        engine = create_async_engine(database_url, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                if conn.dialect.name == "postgresql":
                    conn = await conn.execution_options(isolation_level="REPEATABLE READ")
                async with conn.begin():  # SQLite keeps one read snapshot for the whole transaction
                    return [[dict(r) for r in (await conn.execute(text(q), params)).mappings()] for q in queries]
        finally:
            await engine.dispose()

    return run_coroutine(run())
