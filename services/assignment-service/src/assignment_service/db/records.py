"""assignment-service tables. Accounts, reps, rules and assignments arrive with their features."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase
from territory_shared.messaging.tables import inbox_table, outbox_table


class Base(DeclarativeBase):
    pass


OUTBOX = outbox_table(Base.metadata)
INBOX = inbox_table(Base.metadata)
