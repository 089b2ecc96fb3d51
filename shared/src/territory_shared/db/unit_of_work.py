"""The only place a service commits: its changes, their outbox rows and audit rows in one transaction.

Each service subclasses ``UnitOfWork``, names its ``source`` and ``outbox`` table, and opens its repositories on
the session in ``open_repositories``. ``async with uow:`` opens a transaction; ``uow.emit(...)`` stages an event;
``await uow.commit()`` writes the changes, the events' outbox rows and their audit rows together, then tells the
relay (``on_commit``) that there is something to send.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, ClassVar, Self

from sqlalchemy import Table, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from territory_shared.audit import add_to_audit, current_actor
from territory_shared.errors import Conflict, PreconditionFailed
from territory_shared.events.contracts import CONTRACTS, EventData
from territory_shared.events.envelope import CloudEvent, encode_event, new_event
from territory_shared.logs import correlation_id
from territory_shared.messaging.outbox import outbox_rows

TYPE_BY_MODEL: dict[type[EventData], str] = {c.model: c.type for c in CONTRACTS.values()}
# Events held before ``stage_events`` writes them: memory stays bounded, small changes stay one statement.
STAGE_AT = 1_000


def _never() -> None:
    return None


class UnitOfWork:
    """``async with uow:`` opens a transaction; ``await uow.commit()`` writes changes and events together."""

    source: ClassVar[str]  # the CloudEvents ``source`` of the service's events, e.g. "/geo-service"
    outbox: ClassVar[Table]
    session: AsyncSession

    def __init__(self, sessions: async_sessionmaker[AsyncSession] | None, on_commit: Callable[[], None]) -> None:
        self._sessions = sessions
        self._on_commit = on_commit
        self._events: list[CloudEvent | dict[str, object]] = []  # events, or outbox rows already encoded
        self._bulk_audit: Counter[tuple[str, str, str]] = Counter()  # the encoded ones, for the audit log
        self._external: AsyncSession | None = None
        self._wrote_events = False

    @classmethod
    def in_session(cls, session: AsyncSession) -> Self:
        """A unit of work inside a transaction someone else commits (the inbox consumer's)."""
        uow = cls(None, _never)
        uow._external = session
        return uow

    def open_repositories(self, session: AsyncSession) -> None:
        """Set the service's repositories on the new session (a subclass's hook)."""

    async def __aenter__(self) -> Self:
        if self._external is not None:
            self.session = self._external
        else:
            assert self._sessions is not None
            self.session = self._sessions()
        self.open_repositories(self.session)
        self._events = []
        self._bulk_audit = Counter()
        self._wrote_events = False
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._external is not None:
            return
        # Detach first: what was read stays readable after the unit of work (a rollback would expire it).
        self.session.expunge_all()
        await self.session.rollback()
        await self.session.close()

    def emit(self, tenant_id: str, subject: str, data: EventData) -> CloudEvent:
        """Stage one event; it is written with the change, or not at all."""
        event = new_event(
            source=self.source,
            type=TYPE_BY_MODEL[type(data)],
            subject=subject,
            tenant_id=tenant_id,
            data=data,
            correlation_id=correlation_id.get(),
        )
        self._events.append(event)
        return event

    def emit_many(
        self, tenant_id: str, model: type[EventData], subjects: Sequence[str], datas: Sequence[dict[str, Any]]
    ) -> None:
        """Emit one ``model`` event per (subject, data), encoded straight to outbox rows.

        For the events counted by the hundred thousand (every account of a bulk upsert or a realignment):
        ``data`` holds JSON values of the contract's fields, built by the caller from validated records, so the
        two pydantic models per event that ``emit`` builds are skipped; the bytes are the same.
        """
        if datas and list(datas[0]) != list(model.model_fields):
            raise ValueError(f"{model.__name__} data must hold exactly its fields, in order: {list(datas[0])}")
        event_type = TYPE_BY_MODEL[model]
        topic = CONTRACTS[event_type].topic
        now, actor = datetime.now(UTC), current_actor()
        self._bulk_audit[(tenant_id, actor, event_type)] += len(subjects)
        correlation = correlation_id.get()
        for subject, data in zip(subjects, datas, strict=True):
            event_id = str(uuid.uuid4())
            payload = encode_event(
                event_id=event_id,
                source=self.source,
                type=event_type,
                subject=subject,
                time=now,
                tenant_id=tenant_id,
                data=data,
                correlation_id=correlation,
                actor=actor,
            )
            row = dict(event_id=event_id, topic=topic, key=subject, event_type=event_type, payload=payload)
            self._events.append(row | {"created_at": now})

    async def flush(self) -> None:
        """Write pending changes now, turning a lost race into the error the client can act on."""
        try:
            await self.session.flush()
        except StaleDataError:
            raise PreconditionFailed(
                "The resource was changed by another request meanwhile; reload and retry."
            ) from None
        except IntegrityError as exc:
            raise Conflict(f"The change conflicts with another one made meanwhile: {exc.orig}") from None

    async def write_outbox_rows(self, rows: Sequence[dict[str, object]]) -> None:
        """Insert outbox rows in this transaction (a service writing them by the hundred thousand overrides it)."""
        if rows:
            await self.session.execute(insert(self.outbox), list(rows))

    async def _stage_events(self) -> None:
        await self.flush()
        await self.write_outbox_rows([e if isinstance(e, dict) else outbox_rows([e])[0] for e in self._events])
        await add_to_audit(self.session, [e for e in self._events if not isinstance(e, dict)], self._bulk_audit)
        self._bulk_audit = Counter()
        self._wrote_events = self._wrote_events or bool(self._events)
        self._events = []

    async def stage_events(self) -> None:
        """Write the events emitted so far to the outbox now (same transaction), so a large change does not
        hold them all in memory until the commit. A few events wait for the commit: a one-account change then
        writes its events in one statement instead of one per step."""
        if len(self._events) >= STAGE_AT:
            await self._stage_events()

    async def commit(self) -> None:
        await self._stage_events()
        if self._external is not None:
            return  # the owner of the transaction commits
        try:
            await self.session.commit()
        except IntegrityError as exc:
            raise Conflict(f"The change conflicts with another one made meanwhile: {exc.orig}") from None
        if self._wrote_events:
            self._on_commit()
        self._wrote_events = False
