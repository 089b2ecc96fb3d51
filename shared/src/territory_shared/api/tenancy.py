"""The tenant a request acts for. Every query is scoped to it; tenants never see each other's data."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header

from territory_shared.api.problems import BadRequest


async def tenant_id(
    x_tenant_id: Annotated[
        str | None,
        Header(description="The tenant (customer organisation) the request acts for", examples=["acme"]),
    ] = None,
) -> str:
    if x_tenant_id is None or not x_tenant_id.strip():
        raise BadRequest(
            "The X-Tenant-ID header is required: every request acts for one tenant.",
            errors=[{"field": "x-tenant-id", "location": "header", "reason": "missing"}],
        )
    value = x_tenant_id.strip()
    if len(value) > 64 or not all(c.isalnum() or c in "-_." for c in value):
        raise BadRequest(
            "X-Tenant-ID must be 1-64 letters, digits, '-', '_' or '.'.",
            errors=[{"field": "x-tenant-id", "location": "header", "reason": "invalid format"}],
        )
    return value


TenantId = Annotated[str, Depends(tenant_id)]
