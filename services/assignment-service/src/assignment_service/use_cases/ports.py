"""What the use cases need from outside them: geo-service (locating points, reading alignments and layers,
writing a designed draft) and the inputs of a territory design. The adapters (``clients``, ``db``) implement
these; the values they exchange are the domain's (``domain.geography``, ``domain.design``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Protocol

from assignment_service.domain.design import AccountPoint, SalesRep
from assignment_service.domain.geography import AlignmentInfo, Located

__all__ = ["AlignmentInfo", "DesignInputs", "GeoClient", "Located"]


class GeoClient(Protocol):
    async def locate(
        self,
        tenant_id: str,
        points: Sequence[tuple[str, float, float]],
        *,
        sales_force: str | None = None,
        alignment_id: str | None = None,
    ) -> Located | None:
        """(id, lon, lat) -> unit and territory; None when the sales force has no active alignment."""

    async def alignment(self, tenant_id: str, alignment_id: str) -> AlignmentInfo | None: ...

    async def territory_codes(self, tenant_id: str, sales_force: str) -> set[str]:
        """Every territory code of the sales force's active and draft alignments."""

    async def publish_changes(self, tenant_id: str, alignment_id: str) -> tuple[str | None, dict[str, str | None]]:
        """The active alignment, and unit id -> new territory code of each unit publishing would change."""

    # Territory design: the layer, its units and adjacency, an alignment's territories and memberships, and the
    # plan written as a new draft.
    async def layer(self, tenant_id: str, layer_id: str) -> dict[str, Any] | None: ...

    async def unit_features(self, tenant_id: str, layer_id: str) -> list[dict[str, Any]]: ...

    async def adjacency(self, tenant_id: str, layer_id: str) -> list[tuple[str, str]]: ...

    async def memberships(self, tenant_id: str, alignment_id: str) -> list[dict[str, Any]]: ...

    async def territories(self, tenant_id: str, alignment_id: str) -> list[dict[str, Any]]: ...

    async def create_draft(
        self, tenant_id: str, name: str, sales_force: str, *, copy_from: str | None = None, layer_id: str | None = None
    ) -> dict[str, Any]: ...

    async def assign_units(
        self, tenant_id: str, alignment_id: str, version: int, rows: Sequence[tuple[str, str | None]]
    ) -> dict[str, Any]: ...

    async def lock_units(
        self, tenant_id: str, alignment_id: str, version: int, unit_ids: Sequence[str]
    ) -> dict[str, Any]: ...

    async def delete_draft(self, tenant_id: str, alignment_id: str) -> None: ...


class DesignInputs(Protocol):
    """What a territory design reads from this service's own tables."""

    async def account_points(self, tenant_id: str) -> list[AccountPoint]:
        """Every live account that has a location."""

    async def sales_force_reps(self, tenant_id: str, sales_force: str, on: date) -> list[SalesRep]:
        """The reps holding a territory of the sales force as primary on ``on``: one territory each."""
