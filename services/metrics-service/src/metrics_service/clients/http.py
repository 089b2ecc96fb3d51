"""The httpx client the adapters share: a base URL or an ASGI transport, and a service token per tenant."""

from __future__ import annotations

import httpx
from territory_shared.api.auth import ServiceCredentials


class HttpClient:
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
