"""geo-service over HTTP (httpx): ``POST /v1/locate`` in chunks, ``GET /v1/alignments/{id}``.

Distributed, the client has geo-service's base URL; embedded, an ``httpx.ASGITransport`` on geo-service's
app, so the same code runs without a socket.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import httpx
from territory_shared.api.problems import DomainError, ServiceUnavailable
from territory_shared.logs import correlation_id

from assignment_service.domain.assignment import GeoAnswer
from assignment_service.use_cases.ports import AlignmentInfo, Located

CHUNK = 200_000


class GeoUnavailable(ServiceUnavailable):
    """geo-service is down or failing (503: retry later; the consumer keeps the event until it answers)."""

    title = "geo-service unavailable"


class GeoRefused(DomainError):
    title = "geo-service refused the lookup"


def _raise_for(r: httpx.Response) -> None:
    if r.status_code >= 500:
        raise GeoUnavailable(f"geo-service answered {r.status_code}; nothing was applied")
    if r.status_code >= 400:
        raise GeoRefused(f"geo-service answered {r.status_code}: {r.text[:300]}")


class HttpGeoClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    @classmethod
    def for_url(cls, base_url: str, timeout_s: float = 120) -> HttpGeoClient:
        return cls(httpx.AsyncClient(base_url=base_url, timeout=timeout_s))

    def _headers(self, tenant_id: str) -> dict[str, str]:
        headers = {"X-Tenant-ID": tenant_id, "content-type": "application/json"}
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
            body = json.dumps({"points": [{"id": i, "lon": lon, "lat": lat} for i, lon, lat in chunk]})
            try:
                r = await self._http.post("/v1/locate", params=params, content=body, headers=self._headers(tenant_id))
            except httpx.HTTPError as exc:
                raise GeoUnavailable(f"geo-service did not answer ({type(exc).__name__}); nothing was applied") from exc
            if r.status_code == 404 and alignment_id is None:
                return None
            _raise_for(r)
            payload = r.json()
            for res in payload["results"]:
                answers[res["id"]] = GeoAnswer(res["unit_id"], res["territory_code"], payload["alignment_id"])
            located = Located(payload["alignment_id"], payload["alignment_version"], answers)
        answers.pop("", None)
        return located

    async def alignment(self, tenant_id: str, alignment_id: str) -> AlignmentInfo | None:
        try:
            r = await self._http.get(f"/v1/alignments/{alignment_id}", headers=self._headers(tenant_id))
        except httpx.HTTPError as exc:
            raise GeoUnavailable(f"geo-service did not answer ({type(exc).__name__}); nothing was applied") from exc
        if r.status_code == 404:
            return None
        _raise_for(r)
        a = r.json()
        return AlignmentInfo(a["id"], a["layer_id"], a["sales_force"], a["state"], a["version"])

    async def answers(self) -> bool:
        """geo-service answers (its /healthz: lookups need its API, not its broker)."""
        try:
            r = await self._http.get("/healthz", timeout=3)
        except httpx.HTTPError:
            return False
        return r.status_code == 200

    async def close(self) -> None:
        await self._http.aclose()
