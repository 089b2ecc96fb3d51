"""Bulk writes of many rows in the caller's transaction: COPY on PostgreSQL, executemany elsewhere.

An ``executemany`` of 100,000 rows costs a round trip of bind parameters per few hundred rows and a plan per
statement; COPY streams them in a binary protocol at a fraction of the cost. Updates COPY into
a temporary table first, then apply it with one set-based statement. SQLite (the embedded mode) keeps the
generic SQLAlchemy path, which is all it needs at its sizes.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Table, insert, text
from sqlalchemy.ext.asyncio import AsyncSession


def is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def asyncpg_connection(session: AsyncSession) -> Any:
    """The asyncpg connection under the session, inside the session's transaction."""
    connection = await session.connection()
    # SQLAlchemy's asyncpg adapter opens the database transaction with its first statement: run one, so the
    # raw COPY below cannot land outside it.
    await connection.execute(text("SELECT 1"))
    raw = await connection.get_raw_connection()
    return raw.driver_connection


def _records(table: Table, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    # COPY takes the server's types as they are: JSON columns go as text, everything else as asyncpg encodes it.
    records = list(map(itemgetter(*columns), rows)) if len(columns) > 1 else [(row[columns[0]],) for row in rows]
    as_json = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, JSON)]
    if as_json:
        records = [
            tuple(json.dumps(v) if i in as_json and v is not None else v for i, v in enumerate(r)) for r in records
        ]
    return records


# Below this many rows a plain executemany is as fast and keeps small writes (one account) on the simple path.
COPY_THRESHOLD = 100


def use_copy(session: AsyncSession, rows: Sequence[object]) -> bool:
    return len(rows) >= COPY_THRESHOLD and is_postgres(session)


async def insert_rows(
    session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]], *, looked_up_by_key: bool = False
) -> None:
    """INSERT every row (all with the same keys); the columns not given take their defaults.

    ``looked_up_by_key``: the transaction reads the table back by key lists, so its statistics must follow its
    growth (see ``_analyze_when_grown``). Only accounts and assignments: ANALYZE locks the table against other
    ANALYZEs until the commit, and two tables always taken in the same order cannot deadlock.
    """
    if not rows:
        return
    if not use_copy(session, rows):
        await session.execute(insert(table), list(rows))
        return
    columns = list(rows[0])
    driver = await asyncpg_connection(session)
    await driver.copy_records_to_table(table.name, records=_records(table, columns, rows), columns=columns)
    if looked_up_by_key:
        await _analyze_when_grown(session, table, len(rows))


async def _analyze_when_grown(session: AsyncSession, table: Table, added: int) -> None:
    """ANALYZE a table each time this transaction has added another power of ten of rows to it (10k, 100k, ...).

    A first load writes a million rows in one transaction, long before autovacuum may look at the table: the
    planner still believes a tenant's sales force holds a handful of rows and reads the lookups by key (``=
    ANY(ids)``) through the wrong index, a scan of every row so far for each chunk. Statistics taken inside the
    transaction count its own rows, and a few ANALYZEs per load cost well under a second each.
    """
    counts = session.info.setdefault("bulk_rows_added", {})
    before = counts.get(table.name, 0)
    counts[table.name] = after = before + added
    if len(str(after)) > len(str(before)) and after >= 10_000:
        await session.execute(text(f'ANALYZE "{table.name}"'))


async def copy_update_rows(session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """PostgreSQL: UPDATE rows by primary key (each row holds the key and the columns to set, same keys in all)."""
    key = [c.name for c in table.primary_key.columns]
    columns = list(rows[0])
    stage = await _stage(session, table, columns, rows)
    assignments = ", ".join(f'"{c}" = s."{c}"' for c in columns if c not in key)
    match = " AND ".join(f't."{k}" = s."{k}"' for k in key)
    await session.execute(text(f'UPDATE "{table.name}" AS t SET {assignments} FROM "{stage}" AS s WHERE {match}'))
    await session.execute(text(f'DROP TABLE "{stage}"'))


async def _stage(session: AsyncSession, table: Table, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> str:
    """A temporary copy of ``table``'s columns holding ``rows``, dropped at the latest when the transaction ends."""
    stage = f"stage_{uuid.uuid4().hex[:12]}"
    column_list = ", ".join(f'"{c}"' for c in columns)
    await session.execute(
        text(
            f'CREATE TEMPORARY TABLE "{stage}" ON COMMIT DROP AS SELECT {column_list} FROM "{table.name}" WITH NO DATA'
        )
    )
    driver = await asyncpg_connection(session)
    await driver.copy_records_to_table(stage, records=_records(table, columns, rows), columns=list(columns))
    # Without statistics the planner takes the stage for a handful of rows and may join it by scanning the
    # target once per staged row.
    await session.execute(text(f'ANALYZE "{stage}"'))
    return stage
