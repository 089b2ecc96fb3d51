"""The tenant a request acts for: the one its credentials name (a token's ``tenant`` claim, an API key's owner).

Every query is scoped to it; tenants never see each other's data. No header can choose another.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from territory_shared.api.auth import Caller


async def tenant_id(caller: Caller) -> str:
    return caller.tenant


async def rep_scope(caller: Caller) -> str | None:
    return caller.rep_scope


TenantId = Annotated[str, Depends(tenant_id)]
# The rep (external id) a caller with only the rep role is limited to; None for every other caller.
RepScope = Annotated[str | None, Depends(rep_scope)]
