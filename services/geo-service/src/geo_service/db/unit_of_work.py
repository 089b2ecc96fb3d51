"""The only place geo-service commits: changes and their outbox rows in one transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from territory_shared.db.unit_of_work import UnitOfWork as BaseUnitOfWork

from geo_service.db.alignments import AlignmentRepository
from geo_service.db.approvals import ApprovalRepository
from geo_service.db.layers import LayerRepository
from geo_service.db.records import OUTBOX
from geo_service.db.schedules import ScheduleRepository
from geo_service.db.territories import TerritoryRepository


class UnitOfWork(BaseUnitOfWork):
    """``async with uow:`` opens a transaction; ``await uow.commit()`` writes changes and events together."""

    source = "/geo-service"
    outbox = OUTBOX

    def open_repositories(self, session: AsyncSession) -> None:
        self.territories, self.layers = TerritoryRepository(session), LayerRepository(session)
        self.alignments, self.approvals = AlignmentRepository(session), ApprovalRepository(session)
        self.schedules = ScheduleRepository(session)
