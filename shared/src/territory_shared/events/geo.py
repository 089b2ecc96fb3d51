"""Events geo-service emits: territories, unit layers and alignments."""

from __future__ import annotations

from pydantic import Field

from territory_shared.events.base import EventContract, EventData


class TerritoryCreatedV1(EventData):
    """A territory was created in geo-service (in an alignment, or on its own when ``alignment_id`` is null)."""

    territory_id: str
    code: str
    name: str
    version: int = Field(ge=1, description="The territory's version after this change")
    alignment_id: str | None = None
    parent_id: str | None = None
    colour: str | None = None


class TerritoryRenamedV1(EventData):
    """A territory's name, code, colour or parent changed."""

    territory_id: str
    code: str
    name: str
    version: int = Field(ge=1)
    alignment_id: str | None = None
    parent_id: str | None = None
    colour: str | None = None


class TerritoryDeletedV1(EventData):
    """A territory was deleted."""

    territory_id: str
    version: int = Field(ge=1)


class LayerImportedV1(EventData):
    """A unit layer was imported; units and attributes are served by geo-service's HTTP API."""

    layer_id: str
    name: str
    kind: str = Field(description="polygon or point")
    unit_count: int
    attributes: list[str]


class AlignmentCreatedV1(EventData):
    """An alignment (scenario) was created, empty or as a copy of ``copied_from``."""

    alignment_id: str
    layer_id: str
    sales_force: str
    name: str
    state: str
    version: int
    copied_from: str | None = None


class UnitMove(EventData):
    unit_id: str
    from_territory_id: str | None
    to_territory_id: str | None


class AlignmentEditedV1(EventData):
    """Units of an alignment moved to another territory (or to none: white space)."""

    alignment_id: str
    version: int
    moves: list[UnitMove]


class UnitChange(EventData):
    unit_id: str
    from_territory_code: str | None
    to_territory_code: str | None


class AlignmentPublishedV1(EventData):
    """An alignment became the active one of its sales force; the previous active one was archived.

    ``changes`` lists the units whose territory (by code) differs from the previous active alignment; a
    large diff is split over several events (``part`` of ``parts``), all with the same ``version``.
    """

    alignment_id: str
    sales_force: str
    version: int
    previous_alignment_id: str | None
    changes: list[UnitChange]
    part: int = 1
    parts: int = 1


class AlignmentArchivedV1(EventData):
    """An alignment was archived (no longer active or editable)."""

    alignment_id: str
    version: int


class AlignmentDeletedV1(EventData):
    """A draft alignment was deleted with its territories."""

    alignment_id: str


GEO_CONTRACTS = [
    EventContract("geo.territory.created.v1", "geo.territory", TerritoryCreatedV1, "geo-service"),
    EventContract("geo.territory.renamed.v1", "geo.territory", TerritoryRenamedV1, "geo-service"),
    EventContract("geo.territory.deleted.v1", "geo.territory", TerritoryDeletedV1, "geo-service"),
    EventContract("geo.layer.imported.v1", "geo.layer", LayerImportedV1, "geo-service"),
    EventContract("geo.alignment.created.v1", "geo.alignment", AlignmentCreatedV1, "geo-service"),
    EventContract("geo.alignment.edited.v1", "geo.alignment", AlignmentEditedV1, "geo-service"),
    EventContract("geo.alignment.published.v1", "geo.alignment", AlignmentPublishedV1, "geo-service"),
    EventContract("geo.alignment.archived.v1", "geo.alignment", AlignmentArchivedV1, "geo-service"),
    EventContract("geo.alignment.deleted.v1", "geo.alignment", AlignmentDeletedV1, "geo-service"),
]
