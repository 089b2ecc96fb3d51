"""The only place metrics-service commits what it decides (quota plans, balance alerts and snapshots) with the
events that tell it. Projections apply events in the inbox consumer's transaction: there, ``in_session`` stages
the events and the consumer commits."""

from __future__ import annotations

from territory_shared.db.unit_of_work import UnitOfWork as BaseUnitOfWork

from metrics_service.db.records import OUTBOX


class UnitOfWork(BaseUnitOfWork):
    """``async with uow:`` opens a transaction; ``await uow.commit()`` writes changes and events together. The
    reads and writes go through ``metrics_service.db.repository`` and ``metrics_service.db.quotas`` on
    ``uow.session``."""

    source = "/metrics-service"
    outbox = OUTBOX
