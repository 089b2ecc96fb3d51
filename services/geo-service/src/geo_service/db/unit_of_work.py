"""The only place geo-service commits: changes and their outbox rows in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from territory_shared.audit import add_to_audit
from territory_shared.errors import Conflict, PreconditionFailed
from territory_shared.events.contracts import CONTRACTS, EventData
from territory_shared.events.envelope import CloudEvent, new_event
from territory_shared.logs import correlation_id
from territory_shared.messaging.outbox import add_to_outbox

from geo_service.db.alignments import AlignmentRepository
from geo_service.db.approvals import ApprovalRepository
from geo_service.db.layers import LayerRepository
from geo_service.db.records import OUTBOX
from geo_service.db.schedules import ScheduleRepository
from geo_service.db.territories import TerritoryRepository

SOURCE = "/geo-service"
_TYPE_BY_MODEL = {c.model: c.type for c in CONTRACTS.values()}


class UnitOfWork:
    """``async with uow:`` opens a transaction; ``await uow.commit()`` writes changes and events together."""

    territories: TerritoryRepository
    layers: LayerRepository
    alignments: AlignmentRepository
    session: AsyncSession

    def __init__(self, sessions: async_sessionmaker[AsyncSession], on_commit: Callable[[], None]) -> None:
        self._sessions = sessions
        self._on_commit = on_commit
        self._events: list[CloudEvent] = []

    async def __aenter__(self) -> UnitOfWork:
        self._session = self.session = self._sessions()
        self.territories = TerritoryRepository(self._session)
        self.layers = LayerRepository(self._session)
        self.alignments = AlignmentRepository(self._session)
        self.approvals, self.schedules = ApprovalRepository(self._session), ScheduleRepository(self._session)
        self._events = []
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # Detach first: what was read stays readable after the unit of work (a rollback would expire it).
        self._session.expunge_all()
        await self._session.rollback()
        await self._session.close()

    def emit(self, tenant_id: str, subject: str, data: EventData) -> None:
        self._events.append(
            new_event(
                source=SOURCE,
                type=_TYPE_BY_MODEL[type(data)],
                subject=subject,
                tenant_id=tenant_id,
                data=data,
                correlation_id=correlation_id.get(),
            )
        )

    async def flush(self) -> None:
        """Write pending changes now, turning a lost race into the error the client can act on."""
        try:
            await self._session.flush()
        except StaleDataError:
            raise PreconditionFailed(
                "The resource was changed by another request meanwhile; reload and retry."
            ) from None
        except IntegrityError as exc:
            raise Conflict(f"The change conflicts with another one made meanwhile: {exc.orig}") from None

    async def commit(self) -> None:
        await self.flush()
        await add_to_outbox(self._session, OUTBOX, self._events)
        await add_to_audit(self._session, self._events)
        await self._session.commit()
        if self._events:
            self._on_commit()
        self._events = []
