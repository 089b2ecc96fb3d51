"""Throwaway PostGIS databases on the server that scripts/infra/postgis-start.sh runs.

Tests that need PostGIS fail (they never skip) when it is not there: ``make test`` starts it.
"""

from __future__ import annotations

import os
import uuid

import asyncpg

from tests.support.aio import run_coroutine

SERVER = os.environ.get("TEST_PG_SERVER", "territory:territory@127.0.0.1:5432")


def async_url(database: str, server: str = SERVER) -> str:
    return f"postgresql+asyncpg://{server}/{database}"


async def _admin(sql: str, server: str = SERVER) -> None:
    conn = await asyncpg.connect(f"postgresql://{server}/postgres", timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_database(prefix: str, server: str = SERVER) -> str:
    """Create an empty database (migrations add postgis); return its name."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    run_coroutine(_admin(f'CREATE DATABASE "{name}"', server))
    return name


def drop_database(name: str, server: str = SERVER) -> None:
    run_coroutine(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', server))
