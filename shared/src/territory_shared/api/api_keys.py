"""API keys for CRM integrations: ``/v1/api-keys`` (admins create, list, revoke them).

How keys are stored and checked on each request is in ``api_key_store.py``.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from territory_shared.api.api_key_store import API_KEYS, KEY_PREFIX, SHOWN_CHARS, hash_key
from territory_shared.api.api_key_store import api_keys_table as api_keys_table  # migrations import it here
from territory_shared.api.auth import Caller
from territory_shared.api.problems import NotFound


class ApiKeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200, examples=["Salesforce sync"])
    # A rep's access is bound to one rep (a token's rep_id); keys are for systems, not people.
    role: Literal["integration", "manager", "planner", "admin"] = "integration"


class ApiKeyRead(BaseModel):
    id: str
    name: str
    role: str
    prefix: str = Field(description="The key's first characters, to tell keys apart")
    created_by: str
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The key itself: shown this once, stored only as a hash")


# Only admins reach these routes: SHARED_ACCESS in roles.py says so.
router = APIRouter(prefix="/v1/api-keys", tags=["api keys"])


def _sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    sessions: async_sessionmaker[AsyncSession] = request.app.state.runtime.sessions
    return sessions


@router.post("", status_code=201, response_model=ApiKeyCreated, summary="Create an API key (shown once)")
async def create_api_key(body: ApiKeyCreate, caller: Caller, request: Request) -> ApiKeyCreated:
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = {
        "id": str(uuid.uuid4()),
        "tenant_id": caller.tenant,
        "name": body.name,
        "role": body.role,
        "prefix": key[:SHOWN_CHARS],
        "key_hash": hash_key(key),
        "created_by": caller.subject,
        "created_at": datetime.now(UTC),
        "revoked_at": None,
    }
    async with _sessions(request).begin() as session:
        await session.execute(insert(API_KEYS).values(**row))
    return ApiKeyCreated(key=key, **{k: v for k, v in row.items() if k not in ("tenant_id", "key_hash")})


@router.get("", response_model=list[ApiKeyRead], summary="The tenant's API keys (never the keys themselves)")
async def list_api_keys(caller: Caller, request: Request) -> list[ApiKeyRead]:
    query = select(API_KEYS).where(API_KEYS.c.tenant_id == caller.tenant).order_by(API_KEYS.c.created_at)
    async with _sessions(request)() as session:
        rows = (await session.execute(query)).mappings().all()
    return [ApiKeyRead(**{k: v for k, v in r.items() if k not in ("tenant_id", "key_hash")}) for r in rows]


@router.delete("/{key_id}", status_code=204, summary="Revoke an API key: it stops working at once")
async def revoke_api_key(key_id: str, caller: Caller, request: Request) -> Response:
    mine = (API_KEYS.c.id == key_id) & (API_KEYS.c.tenant_id == caller.tenant)
    async with _sessions(request).begin() as session:
        found = (await session.execute(select(API_KEYS.c.revoked_at).where(mine))).first()
        if found is None:
            raise NotFound(f"API key {key_id} does not exist.")
        if found.revoked_at is None:
            await session.execute(update(API_KEYS).where(mine).values(revoked_at=datetime.now(UTC)))
    return Response(status_code=204)
