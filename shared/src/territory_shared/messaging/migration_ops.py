"""Alembic operations that create the outbox and inbox tables in a service's first revision."""

from __future__ import annotations

from alembic import op
from sqlalchemy import MetaData

from territory_shared.messaging.tables import inbox_table, outbox_table


def create_messaging_tables() -> None:
    metadata = MetaData()
    for table in (outbox_table(metadata), inbox_table(metadata)):
        table.create(op.get_bind())


def drop_messaging_tables() -> None:
    op.drop_table("inbox")
    op.drop_table("outbox")
