"""The only place geo-service commits: changes and their outbox rows in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from territory_shared.api.problems import PreconditionFailed
from territory_shared.events.contracts import CONTRACTS, EventData
from territory_shared.events.envelope import CloudEvent, new_event
from territory_shared.logs import correlation_id
from territory_shared.messaging.outbox import add_to_outbox

from geo_service.db.records import OUTBOX, TerritoryRecord
from geo_service.domain.territory import Territory

SOURCE = "/geo-service"
_TYPE_BY_MODEL = {c.model: c.type for c in CONTRACTS.values()}


class TerritoryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, tenant_id: str, territory_id: str) -> Territory | None:
        record = await self._session.get(TerritoryRecord, territory_id)
        if record is None or record.tenant_id != tenant_id:
            return None
        return _to_domain(record)

    async def code_taken(self, tenant_id: str, code: str, except_id: str | None = None) -> bool:
        query = select(TerritoryRecord.id).where(TerritoryRecord.tenant_id == tenant_id, TerritoryRecord.code == code)
        found = (await self._session.execute(query)).scalars().first()
        return found is not None and found != except_id

    async def list(self, tenant_id: str, limit: int, offset: int) -> list[Territory]:
        query = (
            select(TerritoryRecord)
            .where(TerritoryRecord.tenant_id == tenant_id)
            .order_by(TerritoryRecord.code, TerritoryRecord.id)
            .limit(limit)
            .offset(offset)
        )
        return [_to_domain(r) for r in (await self._session.execute(query)).scalars()]

    async def add(self, territory: Territory) -> None:
        self._session.add(
            TerritoryRecord(
                id=territory.id,
                tenant_id=territory.tenant_id,
                code=territory.code,
                name=territory.name,
                version=territory.version,
            )
        )

    async def save(self, territory: Territory) -> None:
        record = await self._session.get(TerritoryRecord, territory.id)
        assert record is not None
        record.code, record.name, record.version = territory.code, territory.name, territory.version

    async def remove(self, territory: Territory) -> None:
        record = await self._session.get(TerritoryRecord, territory.id)
        if record is not None:
            await self._session.delete(record)


def _to_domain(r: TerritoryRecord) -> Territory:
    return Territory(id=r.id, tenant_id=r.tenant_id, code=r.code, name=r.name, version=r.version)


class UnitOfWork:
    """``async with uow:`` opens a transaction; ``await uow.commit()`` writes changes and events together."""

    territories: TerritoryRepository

    def __init__(self, sessions: async_sessionmaker[AsyncSession], on_commit: Callable[[], None]) -> None:
        self._sessions = sessions
        self._on_commit = on_commit
        self._events: list[CloudEvent] = []

    async def __aenter__(self) -> UnitOfWork:
        self._session = self._sessions()
        self.territories = TerritoryRepository(self._session)
        self._events = []
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
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

    async def commit(self) -> None:
        try:
            await self._session.flush()
        except StaleDataError:
            raise PreconditionFailed(
                "The resource was changed by another request meanwhile; reload and retry."
            ) from None
        await add_to_outbox(self._session, OUTBOX, self._events)
        await self._session.commit()
        if self._events:
            self._on_commit()
        self._events = []
