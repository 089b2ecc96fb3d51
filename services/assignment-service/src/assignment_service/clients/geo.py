"""geo-service over HTTP (httpx): ``POST /v1/locate`` in chunks, ``GET /v1/alignments/{id}``; for territory
design, a layer's units (shapes and attributes) and adjacency, an alignment's territories and memberships, and
writing a plan as a new draft (copy, then one bulk assignment).

Distributed, the client has geo-service's base URL; embedded, an ``httpx.ASGITransport`` on geo-service's
app, so the same code runs without a socket. Each call carries a short-lived service token for the tenant it
acts for (``ServiceCredentials``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import httpx
from territory_shared.api.auth import ServiceCredentials
from territory_shared.api.problems import DomainError, ServiceUnavailable
from territory_shared.logs import correlation_id

from assignment_service.domain.assignment import GeoAnswer
from assignment_service.domain.geography import AlignmentInfo, Located

CHUNK = 200_000


class GeoUnavailable(ServiceUnavailable):
    """geo-service is down or failing (503: retry later; the consumer keeps the event until it answers)."""

    title = "geo-service unavailable"


class GeoRefused(DomainError):
    title = "geo-service refused the lookup"


def _raise_for(r: httpx.Response) -> None:
    # A 5xx, or an answer that is not one (a redirect): geo-service cannot serve this now.
    if r.status_code >= 500 or r.status_code < 200 or 300 <= r.status_code < 400:
        raise GeoUnavailable(f"geo-service answered {r.status_code}; nothing was applied")
    if r.status_code >= 400:
        raise GeoRefused(f"geo-service answered {r.status_code}: {r.text[:300]}")


class HttpGeoClient:
    """Implements ``use_cases.ports.GeoClient``."""

    def __init__(self, http: httpx.AsyncClient, credentials: ServiceCredentials) -> None:
        self._http = http
        self._credentials = credentials

    @classmethod
    def for_url(cls, base_url: str, credentials: ServiceCredentials, timeout_s: float = 120) -> HttpGeoClient:
        return cls(httpx.AsyncClient(base_url=base_url, timeout=timeout_s), credentials)

    def _headers(self, tenant_id: str) -> dict[str, str]:
        headers = {**self._credentials.headers(tenant_id), "content-type": "application/json"}
        cid = correlation_id.get()
        if cid:
            headers["X-Request-ID"] = cid
        return headers

    async def locate(
        self,
        tenant_id: str,
        points: Sequence[tuple[str, float, float]],
        *,
        sales_force: str | None = None,
        alignment_id: str | None = None,
    ) -> Located | None:
        params = {"alignment_id": alignment_id} if alignment_id else {"sales_force": sales_force}
        answers: dict[str, GeoAnswer] = {}
        located: Located | None = None
        if not points:
            # An empty lookup still says which alignment is active.
            points = [("", 0.0, 0.0)]
        for start in range(0, len(points), CHUNK):
            chunk = points[start : start + CHUNK]
            # [lon, lat] pairs, answered in the same order: no ids to send, parse and send back.
            body = json.dumps({"points": [(lon, lat) for _, lon, lat in chunk]})
            try:
                r = await self._http.post("/v1/locate", params=params, content=body, headers=self._headers(tenant_id))
            except httpx.HTTPError as exc:
                raise GeoUnavailable(f"geo-service did not answer ({type(exc).__name__}); nothing was applied") from exc
            if r.status_code == 404 and alignment_id is None:
                return None
            _raise_for(r)
            payload = r.json()
            for (point_id, _, _), res in zip(chunk, payload["results"], strict=True):
                answers[point_id] = GeoAnswer(res["unit_id"], res["territory_code"], payload["alignment_id"])
            located = Located(payload["alignment_id"], payload["alignment_version"], answers)
        answers.pop("", None)
        return located

    async def alignment(self, tenant_id: str, alignment_id: str) -> AlignmentInfo | None:
        if not alignment_id or "/" in alignment_id:
            # Not an id geo-service gives; as a path segment it would name another resource (or a redirect).
            return None
        try:
            path = f"/v1/alignments/{_segment(alignment_id)}"
            r = await self._http.get(path, headers=self._headers(tenant_id))
        except httpx.HTTPError as exc:
            raise GeoUnavailable(f"geo-service did not answer ({type(exc).__name__}); nothing was applied") from exc
        if r.status_code == 404:
            return None
        _raise_for(r)
        a = r.json()
        return AlignmentInfo(a["id"], a["layer_id"], a["sales_force"], a["state"], a["version"])

    async def _json(self, method: str, path: str, tenant_id: str, *, expect_404: bool = False, **kwargs: Any) -> Any:
        """The decoded JSON body (any JSON value); None when there is none, or on a 404 with ``expect_404``."""
        headers = {**self._headers(tenant_id), **kwargs.pop("headers", {})}
        try:
            r = await self._http.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise GeoUnavailable(f"geo-service did not answer ({type(exc).__name__}); nothing was applied") from exc
        if r.status_code == 404 and expect_404:
            return None
        _raise_for(r)
        return r.json() if r.content else None

    async def _pages(self, path: str, tenant_id: str, key: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = await self._json("GET", path, tenant_id, params={**params, "offset": offset})
            out.extend(page[key])
            if not page.get("next"):
                return out
            offset += params["limit"]

    async def layer(self, tenant_id: str, layer_id: str) -> dict[str, Any] | None:
        layer: dict[str, Any] | None = await self._json(
            "GET", f"/v1/layers/{_segment(layer_id)}", tenant_id, expect_404=True
        )
        return layer

    async def unit_features(self, tenant_id: str, layer_id: str) -> list[dict[str, Any]]:
        """Every unit of a layer as a GeoJSON feature at full resolution, its attributes in the properties."""
        return await self._pages(
            f"/v1/layers/{_segment(layer_id)}/units.geojson", tenant_id, "features", {"limit": 5000}
        )

    async def adjacency(self, tenant_id: str, layer_id: str) -> list[tuple[str, str]]:
        body = await self._json("GET", f"/v1/layers/{_segment(layer_id)}/adjacency", tenant_id)
        return [(a, b) for a, b in body["edges"]]

    async def memberships(self, tenant_id: str, alignment_id: str) -> list[dict[str, Any]]:
        """unit_id, territory_id (None: white space), locked: one row per unit of the alignment's layer."""
        rows: list[dict[str, Any]] = await self._json(
            "GET", f"/v1/alignments/{_segment(alignment_id)}/units", tenant_id
        )
        return rows

    async def territories(self, tenant_id: str, alignment_id: str) -> list[dict[str, Any]]:
        return await self._pages("/v1/territories", tenant_id, "items", {"alignment_id": alignment_id, "limit": 1000})

    async def territory_codes(self, tenant_id: str, sales_force: str) -> set[str]:
        body = await self._json("GET", "/v1/territories/codes", tenant_id, params={"sales_force": sales_force})
        return set(body["codes"])

    async def publish_changes(self, tenant_id: str, alignment_id: str) -> tuple[str | None, dict[str, str | None]]:
        """The sales force's active alignment, and unit id -> new territory code of each unit whose territory
        publishing the alignment would change (what ``geo.alignment.published.v1`` would tell)."""
        body = await self._json("GET", f"/v1/alignments/{_segment(alignment_id)}/publish-changes", tenant_id)
        return body["active_alignment_id"], {c["unit_id"]: c["to_territory_code"] for c in body["changes"]}

    async def create_draft(
        self, tenant_id: str, name: str, sales_force: str, *, copy_from: str | None = None, layer_id: str | None = None
    ) -> dict[str, Any]:
        body = {"name": name, "sales_force": sales_force, "copy_from": copy_from, "layer_id": layer_id}
        draft: dict[str, Any] = await self._json(
            "POST", "/v1/alignments", tenant_id, json={k: v for k, v in body.items() if v}
        )
        return draft

    async def assign_units(
        self, tenant_id: str, alignment_id: str, version: int, rows: Sequence[tuple[str, str | None]]
    ) -> dict[str, Any]:
        """Put each unit in the territory with that code (created when missing), in one versioned write."""
        lines = ["unit_id,territory_code", *(f"{u},{c or ''}" for u, c in rows)]
        answer: dict[str, Any] = await self._json(
            "PUT",
            f"/v1/alignments/{_segment(alignment_id)}/assignments.csv",
            tenant_id,
            content="\n".join(lines).encode(),
            headers={"content-type": "text/csv", "If-Match": f'"{version}"'},
        )
        return answer

    async def lock_units(
        self, tenant_id: str, alignment_id: str, version: int, unit_ids: Sequence[str]
    ) -> dict[str, Any]:
        answer: dict[str, Any] = await self._json(
            "POST",
            f"/v1/alignments/{_segment(alignment_id)}/locks",
            tenant_id,
            json={"unit_ids": list(unit_ids), "locked": True},
            headers={"If-Match": f'"{version}"'},
        )
        return answer

    async def delete_draft(self, tenant_id: str, alignment_id: str) -> None:
        info = await self.alignment(tenant_id, alignment_id)
        if info is not None:
            await self._json(
                "DELETE",
                f"/v1/alignments/{_segment(alignment_id)}",
                tenant_id,
                headers={"If-Match": f'"{info.version}"'},
            )

    async def answers(self) -> bool:
        """geo-service answers (its /healthz: lookups need its API, not its broker)."""
        try:
            r = await self._http.get("/healthz", timeout=3)
        except httpx.HTTPError:
            return False
        return r.status_code == 200

    async def close(self) -> None:
        await self._http.aclose()


def _segment(value: str) -> str:
    """An id from a request stays one path segment on geo-service, whatever characters it holds."""
    return quote(value, safe="")
