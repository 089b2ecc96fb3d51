"""Where API keys are kept and how a presented key is checked: the ``api_keys`` table, hashing, the key's principal.

A key is 32 random bytes; only its SHA-256 is stored (a high-entropy key needs no slow hash), with its first
characters kept to tell keys apart. Each service keeps its own keys in its own database, so a key is valid on the
service that issued it (CRMs talk to assignment-service). ``auth.py`` reads keys here; the admins' routes that
create, list and revoke them are in ``api_keys.py``.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import Column, DateTime, MetaData, String, Table, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from territory_shared.api.principal import Principal
from territory_shared.errors import Unauthorized

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
