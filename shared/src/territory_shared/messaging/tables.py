"""Outbox and inbox tables, added to each service's own metadata (each service owns its database).

The outbox row is written in the same transaction as the change it announces; the inbox row in the
same transaction as the handler's effect. Those two rules are what make delivery lossless and
effects exactly-once over an at-least-once bus.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
_SEQ = BigInteger().with_variant(Integer(), "sqlite")


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("seq", _SEQ, primary_key=True, autoincrement=True),
        Column("event_id", String(64), nullable=False, unique=True),
        Column("topic", String(200), nullable=False),
        Column("key", String(200), nullable=False),
        Column("event_type", String(200), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("published_at", DateTime(timezone=True), nullable=True, index=True),
    )


def outbox_pending_index(outbox: Table) -> Index:
    """The pending rows by seq, so the relay's next batch is an index range however many rows are pending. Without
    it the relay sorts every pending row for each batch it sends (a realignment stages 100,000 events at once; a
    broker outage piles them up). Each service's migrations create it, after the first revision, whose tables
    come from `outbox_table` as it is."""
    pending = outbox.c.published_at.is_(None)
    return Index("ix_outbox_pending", outbox.c.seq, postgresql_where=pending, sqlite_where=pending)


def inbox_table(metadata: MetaData) -> Table:
    return Table(
        "inbox",
        metadata,
        Column("seq", _SEQ, primary_key=True, autoincrement=True),
        Column("consumer", String(100), nullable=False),
        Column("event_id", String(64), nullable=False),
        Column("event_type", String(200), nullable=False),
        Column("subject", String(200), nullable=False),
        Column("outcome", String(20), nullable=False),  # applied | dead-lettered
        Column("error", Text, nullable=True),
        Column("processed_at", DateTime(timezone=True), nullable=False),
        # The uniqueness that makes a redelivered event a no-op.
        UniqueConstraint("consumer", "event_id", name="uq_inbox_consumer_event"),
    )
