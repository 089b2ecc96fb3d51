"""``GET /v1/audit``: who changed what, and when, newest first (every service keeps its own log)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from territory_shared.api.auth import Caller
from territory_shared.api.problems import InvalidInput
from territory_shared.audit import AUDIT

router = APIRouter(prefix="/v1/audit", tags=["audit"])


class AuditEntry(BaseModel):
    id: str
    at: datetime
    actor: str = Field(description="The token's subject, api-key:<name>, or system")
    action: str = Field(description="The event type the change was announced with")
    subject: str | None = Field(description="The changed resource's id; null on a row standing for many")
    count: int = Field(description="How many events the row stands for (one, or a bulk change's count)")
    details: dict[str, Any] | None


class AuditPage(BaseModel):
    entries: list[AuditEntry]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page; null on the last")


@router.get("", response_model=AuditPage, summary="Who made which change, and when (newest first, paged)")
async def audit_log(
    caller: Caller,
    request: Request,
    actor: str | None = None,
    action: Annotated[str | None, Query(description="An event type, e.g. geo.alignment.published.v1")] = None,
    subject: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: str | None = None,
) -> AuditPage:
    log = AUDIT.c
    query = select(AUDIT).where(log.tenant_id == caller.tenant)
    for column, value in ((log.actor, actor), (log.action, action), (log.subject, subject)):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(log.at >= since)
    if until is not None:
        query = query.where(log.at < until)
    if cursor is not None:
        at, entry_id = _parse_cursor(cursor)
        query = query.where(or_(log.at < at, and_(log.at == at, log.id < entry_id)))
    query = query.order_by(log.at.desc(), log.id.desc()).limit(limit + 1)
    sessions: async_sessionmaker[AsyncSession] = request.app.state.runtime.sessions
    async with sessions() as session:
        rows = (await session.execute(query)).mappings().all()
    entries = [AuditEntry(**{k: v for k, v in r.items() if k != "tenant_id"}) for r in rows[:limit]]
    last = entries[-1] if len(rows) > limit else None
    return AuditPage(entries=entries, next_cursor=f"{last.at.isoformat()}|{last.id}" if last else None)


def _parse_cursor(cursor: str) -> tuple[datetime, str]:
    at, _, entry_id = cursor.partition("|")
    try:
        return datetime.fromisoformat(at), entry_id
    except ValueError:
        raise InvalidInput("not a cursor this endpoint gave", field="cursor") from None
