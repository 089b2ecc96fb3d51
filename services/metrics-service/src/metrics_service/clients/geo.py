"""geo-service as metrics-service reads it: the httpx adapter of ``use_cases.ports.GeoClient``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from metrics_service.clients.http import HttpClient
from metrics_service.domain.sources import GeoUnavailable, UnitFeature


class HttpGeoClient(HttpClient):
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
