"""API keys for CRM integrations: ``/v1/api-keys`` (admins create, list, revoke) and their check on each request.

A key is 32 random bytes; only its SHA-256 is stored (a high-entropy key needs no slow hash), with its first
characters kept to tell keys apart. Each service keeps its own keys in its own database, so a key is valid on the
service that issued it (CRMs talk to assignment-service).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import Column, DateTime, MetaData, String, Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from territory_shared.api.auth import Caller, Principal
from territory_shared.api.problems import NotFound, Unauthorized

KEY_PREFIX = "tk_"
SHOWN_CHARS = 10  # "tk_" and 7 characters: enough to tell keys apart, far too few to guess the rest


def api_keys_table(metadata: MetaData) -> Table:
    return Table(
        "api_keys",
        metadata,
        Column("id", String(36), primary_key=True),
        Column("tenant_id", String(64), nullable=False, index=True),
        Column("name", String(200), nullable=False),
        Column("role", String(20), nullable=False),
        Column("prefix", String(16), nullable=False),
        Column("key_hash", String(64), nullable=False, unique=True),
        Column("created_by", String(200), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("revoked_at", DateTime(timezone=True), nullable=True),
    )


API_KEYS = api_keys_table(MetaData())


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def principal_for_key(sessions: async_sessionmaker[AsyncSession], key: str) -> Principal:
    async with sessions() as session:
        row = (await session.execute(select(API_KEYS).where(API_KEYS.c.key_hash == hash_key(key)))).mappings().first()
    if row is None or row["revoked_at"] is not None:
        raise Unauthorized("The API key is unknown or revoked.")
    # The key's name is who acts (what the audit log and histories show); the id stays in the key's own records.
    return Principal(row["tenant_id"], frozenset({row["role"]}), f"api-key:{row['name']}", via="api-key")


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
    return request.app.state.runtime.sessions  # type: ignore[no-any-return]


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
