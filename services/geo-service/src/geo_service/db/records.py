"""geo-service tables. GeoAlchemy2 geometry columns live here only."""

from __future__ import annotations

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from territory_shared.messaging.tables import inbox_table, outbox_table


class Base(DeclarativeBase):
    pass


class TerritoryRecord(Base):
    __tablename__ = "territories"
    __table_args__ = (UniqueConstraint("tenant_id", "code", name="uq_territories_tenant_code"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)

    # Every UPDATE/DELETE checks the version it read: a concurrent writer makes the flush fail
    # instead of both writers producing the same version number.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


OUTBOX = outbox_table(Base.metadata)
INBOX = inbox_table(Base.metadata)
