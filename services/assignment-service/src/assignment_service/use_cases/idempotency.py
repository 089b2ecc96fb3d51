"""``Idempotency-Key`` on bulk writes: the first answer is kept in the request's own transaction, and a retry
with the same key is answered from it, changing nothing twice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from territory_shared.errors import Conflict

from assignment_service.db.records import IdempotencyRecord
from assignment_service.db.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Answer:
    response: dict[str, Any]
    status_code: int


@dataclass
class Idempotency:
    key: str
    # The SHA-256 of the whole request body; awaiting it reads what the request has not read of its body yet.
    request_sha256: Callable[[], Awaitable[str]]

    async def earlier_answer(self, uow: UnitOfWork, tenant_id: str) -> Answer | None:
        """The answer kept for this key, or None when the key is new; a key used with another body is a 409."""
        async with uow:
            seen = await uow.runs.idempotency(tenant_id, self.key)
        if seen is None:
            return None
        if seen.request_sha256 != await self.request_sha256():
            raise Conflict("This Idempotency-Key was used for a different request body.", field="idempotency-key")
        return Answer(seen.response, seen.status_code)

    async def record(self, uow: UnitOfWork, tenant_id: str, response: dict[str, Any], now: datetime) -> None:
        """Keep the answer in the request's own transaction: a retry is answered from it, changing nothing twice."""
        uow.runs.add(
            IdempotencyRecord(
                tenant_id=tenant_id,
                key=self.key,
                request_sha256=await self.request_sha256(),
                status_code=200,
                response=response,
                created_at=now,
            )
        )
