"""The owning services' HTTP APIs, as metrics-service reads them: a port and its httpx adapter.

metrics-service never reads another service's tables; what events do not carry (a layer's units and
geometry, an alignment's memberships after a copy) it asks geo-service for, over HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import httpx
from territory_shared.api.auth import ServiceCredentials


@dataclass(frozen=True)
class UnitFeature:
    unit_id: str
    attributes: dict[str, float]
    geometry: dict[str, Any] | None  # GeoJSON, lon/lat


class GeoUnavailable(Exception):
    """geo-service could not answer. Down or failing (``retryable``), the consumer keeps the event until it
    answers; a refusal is retried, then dead-lettered."""

    def __init__(self, detail: str, *, retryable: bool = False) -> None:
        super().__init__(detail)
        self.retryable = retryable


class GeoClient(Protocol):
    async def layer(self, tenant_id: str, layer_id: str) -> dict[str, Any] | None: ...

    async def layer_units(self, tenant_id: str, layer_id: str) -> list[UnitFeature]: ...

    async def alignment_units(self, tenant_id: str, alignment_id: str) -> dict[str, str | None] | None: ...


class _HttpClient:
    """Another service's API over httpx: ``base_url`` in the distributed mode, an ASGI transport when embedded;
    each call carries a short-lived service token for the tenant it asks about."""

    def __init__(
        self,
        base_url: str,
        credentials: ServiceCredentials,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        self._client = httpx.AsyncClient(base_url=base_url, transport=transport, timeout=timeout_s)
        self._credentials = credentials

    async def close(self) -> None:
        await self._client.aclose()


class HttpGeoClient(_HttpClient):
    """geo-service over httpx: ``base_url`` in the distributed mode, an ASGI transport when embedded; each call
    carries a short-lived service token for the tenant of the event being applied."""

    async def _get(self, tenant_id: str, path: str, params: Mapping[str, Any] | None = None) -> httpx.Response | None:
        try:
            r = await self._client.get(path, params=params, headers=self._credentials.headers(tenant_id))
        except httpx.HTTPError as exc:
            raise GeoUnavailable(f"GET {path}: {type(exc).__name__}: {exc}", retryable=True) from exc
        if r.status_code == 404:
            return None
        if r.status_code >= 400:
            raise GeoUnavailable(f"GET {path}: {r.status_code} {r.text[:200]}", retryable=r.status_code >= 500)
        return r

    async def layer(self, tenant_id: str, layer_id: str) -> dict[str, Any] | None:
        r = await self._get(tenant_id, f"/v1/layers/{layer_id}")
        return r.json() if r is not None else None

    async def layer_units(self, tenant_id: str, layer_id: str) -> list[UnitFeature]:
        """Every unit with attributes and full-resolution geometry, following the ``next`` links."""
        out: list[UnitFeature] = []
        offset, limit = 0, 5_000
        while True:
            r = await self._get(tenant_id, f"/v1/layers/{layer_id}/units.geojson", {"limit": limit, "offset": offset})
            if r is None:
                return out
            page = json.loads(r.content)
            for f in page["features"]:
                props = dict(f.get("properties") or {})
                unit_id = str(props.pop("unit_id", f.get("id")))
                attributes = {k: float(v) for k, v in props.items() if isinstance(v, int | float)}
                out.append(UnitFeature(unit_id, attributes, f.get("geometry")))
            if not page.get("next"):
                return out
            offset += limit

    async def alignment_units(self, tenant_id: str, alignment_id: str) -> dict[str, str | None] | None:
        r = await self._get(tenant_id, f"/v1/alignments/{alignment_id}/units")
        return {u["unit_id"]: u["territory_id"] for u in r.json()} if r is not None else None


class AssignmentUnavailable(Exception):
    """assignment-service could not answer the question (down, or failing)."""


class AssignmentRefused(Exception):
    """assignment-service refused the question (a sales force name it does not take)."""


class HttpAssignmentClient(_HttpClient):
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
        return r.json()
