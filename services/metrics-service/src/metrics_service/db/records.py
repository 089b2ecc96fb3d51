"""metrics-service tables: projections built only from events, never from other services' tables."""

from __future__ import annotations

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from territory_shared.messaging.tables import inbox_table, outbox_table


class Base(DeclarativeBase):
    pass


class TerritoryProjectionRecord(Base):
    __tablename__ = "territory_projection"

    territory_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    # Kept rather than deleted so a late, stale event cannot resurrect the territory.
    deleted: Mapped[bool] = mapped_column(Boolean)
    # How many events changed this row: the figure that shows each event took effect once.
    events_applied: Mapped[int] = mapped_column(Integer)


OUTBOX = outbox_table(Base.metadata)
INBOX = inbox_table(Base.metadata)
