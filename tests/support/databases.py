"""A pytest fixture factory: one database per test module, on SQLite and on PostGIS."""

from __future__ import annotations

from collections.abc import Iterator
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

    async def run() -> list[dict[str, object]]:
        engine = create_async_engine(database_url, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                return [dict(r) for r in (await conn.execute(text(sql), params)).mappings()]
        finally:
            await engine.dispose()

    return run_coroutine(run())
