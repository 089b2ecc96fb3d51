"""What geo-service answers about places and alignments, as this service's use cases take it."""

from __future__ import annotations

from dataclasses import dataclass

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
