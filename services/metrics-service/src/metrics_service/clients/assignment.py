"""assignment-service as metrics-service reads it (the httpx adapter of ``use_cases.ports.AssignmentClient``):
who owns what, for the consistency check."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from metrics_service.clients.http import HttpClient
from metrics_service.domain.sources import AssignmentRefused, AssignmentUnavailable


class HttpAssignmentClient(HttpClient):
    """assignment-service over httpx (``base_url`` distributed, an ASGI transport embedded): the truth about who
    owns what, which the consistency check compares the projection with."""

    async def ownership(self, tenant_id: str, sales_force: str, on: str) -> dict[str, Any]:
        path = f"/v1/sales-forces/{quote(sales_force, safe='')}/ownership"
        try:
            r = await self._client.get(path, params={"on": on}, headers=self._credentials.headers(tenant_id))
        except httpx.HTTPError as exc:
            raise AssignmentUnavailable(f"GET {path}: {type(exc).__name__}: {exc}") from exc
        if r.status_code >= 500:
            raise AssignmentUnavailable(f"GET {path}: {r.status_code} {r.text[:200]}")
        if r.status_code >= 400:
            raise AssignmentRefused(f"{r.status_code} {r.text[:200]}")
        body: dict[str, Any] = r.json()
        return body
