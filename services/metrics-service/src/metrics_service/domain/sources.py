"""What the owning services answer metrics-service, and how asking them fails: the values and errors its ports
(``use_cases.ports``) carry, whichever adapter answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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


class AssignmentUnavailable(Exception):
    """assignment-service could not answer the question (down, or failing)."""


class AssignmentRefused(Exception):
    """assignment-service refused the question (a sales force name it does not take)."""
