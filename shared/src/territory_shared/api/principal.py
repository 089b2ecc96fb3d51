"""Who a request acts for, once its credentials are checked: the ``Principal`` every endpoint receives.

Both ways in produce one: a bearer JWT (``auth.py``) and an API key (``api_key_store.py``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """The caller: a tenant, its roles, who it is, and for a rep the rep's external id."""

    tenant: str
    roles: frozenset[str]
    subject: str
    rep_id: str | None = None
    via: str = "jwt"  # jwt | api-key

    @property
    def rep_scope(self) -> str | None:
        """The rep whose own records bound what this caller sees; None when a broader role applies."""
        return self.rep_id if self.roles <= {"rep"} else None
