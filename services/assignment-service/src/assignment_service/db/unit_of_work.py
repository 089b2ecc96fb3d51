"""The only place assignment-service commits: changes and their outbox rows (and webhook deliveries) together."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from territory_shared.audit import add_to_audit, current_actor
from territory_shared.errors import Conflict, PreconditionFailed
from territory_shared.events.contracts import CONTRACTS, EventData
from territory_shared.events.envelope import CloudEvent, encode_event, new_event
from territory_shared.logs import correlation_id
from territory_shared.messaging.outbox import outbox_rows

from assignment_service.db.accounts import AccountRepository
from assignment_service.db.assignments import AssignmentRepository
from assignment_service.db.bulk import insert_rows
from assignment_service.db.records import OUTBOX
from assignment_service.db.reps import RepRepository
from assignment_service.db.runs import RunRepository

SOURCE = "/assignment-service"
# Events held before ``stage_events`` writes them: memory stays bounded, small changes stay one statement.
STAGE_AT = 1_000
_TYPE_BY_MODEL = {c.model: c.type for c in CONTRACTS.values()}


class UnitOfWork:
    """``async with uow:`` opens a transaction; ``await uow.commit()`` writes changes and events together."""

    accounts: AccountRepository
    reps: RepRepository
    assignments: AssignmentRepository
    runs: RunRepository
    session: AsyncSession

    def __init__(self, sessions: async_sessionmaker[AsyncSession], on_commit: Callable[[], None]) -> None:
        self._sessions = sessions
        self._on_commit = on_commit
        self._events: list[CloudEvent | dict[str, object]] = []  # events, or outbox rows already encoded
        self._bulk_audit: Counter[tuple[str, str, str]] = Counter()  # the encoded ones, for the audit log
        self._external: AsyncSession | None = None

    @classmethod
    def in_session(cls, session: AsyncSession) -> UnitOfWork:
        """A unit of work inside a transaction someone else commits (the inbox consumer's)."""
        uow = cls(None, lambda: None)  # type: ignore[arg-type]
        uow._external = session
        return uow

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._external or self._sessions()
        self.accounts = AccountRepository(self.session)
        self.reps = RepRepository(self.session)
        self.assignments = AssignmentRepository(self.session)
        self.runs = RunRepository(self.session)
        self._events = []
        self._bulk_audit = Counter()
        self._wrote_events = False
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._external is not None:
            return
        self.session.expunge_all()
        await self.session.rollback()
        await self.session.close()

    async def lock_accounts(self, tenant_id: str) -> None:
        """Hold the tenant's accounts until this transaction ends.

        Bulk upserts and realignment runs write many accounts and assignments of a tenant in one transaction;
        taking this first serialises them, so concurrent ones neither deadlock nor insert the same new account
        twice nor bump an account's version from the same old value twice: each sees the one before it
        committed. PostgreSQL: a transaction-level advisory lock per tenant. SQLite: its one write lock, taken
        now by a write that changes nothing (a transaction that read first could not upgrade to writing).
        """
        if self.session.bind.dialect.name == "postgresql":
            await self.session.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": f"accounts:{tenant_id}"}
            )
        else:
            await self.session.execute(text("DELETE FROM outbox WHERE 1 = 0"))

    def emit(self, tenant_id: str, subject: str, data: EventData) -> CloudEvent:
        event = new_event(
            source=SOURCE,
            type=_TYPE_BY_MODEL[type(data)],
            subject=subject,
            tenant_id=tenant_id,
            data=data,
            correlation_id=correlation_id.get(),
        )
        self._events.append(event)
        return event

    def emit_many(
        self, tenant_id: str, model: type[EventData], subjects: list[str], datas: list[dict[str, Any]]
    ) -> None:
        """Emit one ``model`` event per (subject, data), encoded straight to outbox rows.

        For the events counted by the hundred thousand (every account of a bulk upsert or a realignment):
        ``data`` holds JSON values of the contract's fields, built by the caller from validated records, so the
        two pydantic models per event that ``emit`` builds are skipped; the bytes are the same.
        """
        if datas and list(datas[0]) != list(model.model_fields):
            raise ValueError(f"{model.__name__} data must hold exactly its fields, in order: {list(datas[0])}")
        event_type, topic = _TYPE_BY_MODEL[model], CONTRACTS[_TYPE_BY_MODEL[model]].topic
        now, cid, actor = datetime.now(UTC), correlation_id.get(), current_actor()
        self._bulk_audit[(tenant_id, actor, event_type)] += len(subjects)
        for subject, data in zip(subjects, datas, strict=True):
            event_id = str(uuid.uuid4())
            payload = encode_event(
                event_id=event_id,
                source=SOURCE,
                type=event_type,
                subject=subject,
                time=now,
                tenant_id=tenant_id,
                data=data,
                correlation_id=cid,
                actor=actor,
            )
            self._events.append(
                {
                    "event_id": event_id,
                    "topic": topic,
                    "key": subject,
                    "event_type": event_type,
                    "payload": payload,
                    "created_at": now,
                }
            )

    async def flush(self) -> None:
        try:
            await self.session.flush()
        except StaleDataError:
            raise PreconditionFailed(
                "The resource was changed by another request meanwhile; reload and retry."
            ) from None
        except IntegrityError as exc:
            raise Conflict(f"The change conflicts with another one made meanwhile: {exc.orig}") from None

    async def _stage_events(self) -> None:
        await self.flush()
        rows = [e if isinstance(e, dict) else outbox_rows([e])[0] for e in self._events]
        await insert_rows(self.session, OUTBOX, rows)
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
        if self._external is not None:
            await self._stage_events()  # the owner of the transaction commits
            return
        await self._stage_events()
        had_events = self._wrote_events
        try:
            await self.session.commit()
        except IntegrityError as exc:
            raise Conflict(f"The change conflicts with another one made meanwhile: {exc.orig}") from None
        if had_events:
            self._on_commit()
