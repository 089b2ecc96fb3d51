"""What the use cases need from outside the service: geo-service's location lookup."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from assignment_service.domain.assignment import GeoAnswer


@dataclass(frozen=True)
class Located:
    alignment_id: str
    alignment_version: int
    answers: dict[str, GeoAnswer]  # point id -> unit and territory


@dataclass(frozen=True)
class AlignmentInfo:
    id: str
    layer_id: str
    sales_force: str
    state: str
    version: int


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
