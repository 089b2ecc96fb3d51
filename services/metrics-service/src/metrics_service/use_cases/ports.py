"""What metrics-service needs from the owning services; ``clients`` implements these over HTTP."""

from __future__ import annotations

from typing import Any, Protocol

from metrics_service.domain.sources import UnitFeature


class GeoClient(Protocol):
    async def layer(self, tenant_id: str, layer_id: str) -> dict[str, Any] | None: ...

    async def layer_units(self, tenant_id: str, layer_id: str) -> list[UnitFeature]: ...

    async def alignment_units(self, tenant_id: str, alignment_id: str) -> dict[str, str | None] | None: ...


class AssignmentClient(Protocol):
    async def ownership(self, tenant_id: str, sales_force: str, on: str) -> dict[str, Any]:
        """Who owns what in the sales force on ``on``: per territory, its accounts, potential and primary rep."""
