"""Alembic operations on the outbox and inbox tables: created in a service's first revision, indexed later."""

from __future__ import annotations

from alembic import op
from sqlalchemy import MetaData

from territory_shared.messaging.tables import inbox_table, outbox_pending_index, outbox_table


def create_messaging_tables() -> None:
    metadata = MetaData()
    for table in (outbox_table(metadata), inbox_table(metadata)):
        table.create(op.get_bind())


def drop_messaging_tables() -> None:
    op.drop_table("inbox")
    op.drop_table("outbox")


def create_outbox_pending_index() -> None:
    """The index of `outbox_pending_index`, on a database whose outbox the first revision made."""
    outbox_pending_index(outbox_table(MetaData())).create(op.get_bind())


def drop_outbox_pending_index() -> None:
    outbox_pending_index(outbox_table(MetaData())).drop(op.get_bind())
