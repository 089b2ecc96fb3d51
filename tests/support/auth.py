"""The credentials the tests present to the services.

Every test builds its request headers here, so how a caller proves who it is (and for which tenant) is decided in
one place: a real HS256 JWT signed with ``TEST_SECRET``, which the root conftest.py puts in ``AUTH_JWT_SECRET``
for every service the tests start, in-process or as a subprocess.
"""

from __future__ import annotations

import time
import uuid

import jwt

TEST_SECRET = "territory-test-secret-not-for-production-0123456789"


def token(tenant: str, role: str = "admin", *, ttl_s: int = 3600, secret: str = TEST_SECRET, **claims: object) -> str:
    now = int(time.time())
    body: dict[str, object] = {
        "sub": f"test-{role}",
        "tenant": tenant,
        "roles": [role],
        "iat": now,
        "exp": now + ttl_s,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode({**body, **claims}, secret, algorithm="HS256")


def auth_headers(tenant: str, role: str = "admin", **claims: object) -> dict[str, str]:
    """Headers that make a request act for `tenant` with `role` (extra claims, e.g. rep_id, ride along)."""
    return {"Authorization": f"Bearer {token(tenant, role, **claims)}"}


def tenant_of(headers: dict[str, str]) -> str:
    """The tenant that headers made by ``auth_headers`` act for."""
    raw = headers["Authorization"].removeprefix("Bearer ")
    return str(jwt.decode(raw, options={"verify_signature": False})["tenant"])
