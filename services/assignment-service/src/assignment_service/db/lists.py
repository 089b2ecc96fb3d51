"""``column IN (many values)`` that stays an index lookup on PostgreSQL.

A long ``IN ($1, ..., $2000)`` under a cached generic plan is compared value by value on every row (a
sequential scan that grows with the table); ``= ANY($1::varchar[])`` with one array parameter uses the index.
SQLite keeps the plain ``IN``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, String, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute


def among(
    session: AsyncSession, column: ColumnElement[str] | QueryableAttribute[str], values: Sequence[str]
) -> ColumnElement[bool]:
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(String)))
    return column.in_(list(values))


# Keys per lookup: SQLite allows up to 32,766 bound values; PostgreSQL takes any array, but each call's answer
# stays a bounded read.
LOOKUP_CHUNK = 10_000
