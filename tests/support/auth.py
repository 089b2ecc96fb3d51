"""The credentials the tests present to the services.

Every test builds its request headers here, so how a caller proves who it is (and for which tenant) is decided in
one place.
"""

from __future__ import annotations


def auth_headers(tenant: str, role: str = "admin", **claims: object) -> dict[str, str]:
    """Headers that make a request act for `tenant` with `role` (extra claims, e.g. rep_id, ride along)."""
    return {"X-Tenant-ID": tenant}
