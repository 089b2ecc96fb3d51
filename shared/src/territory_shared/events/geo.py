"""Events geo-service emits: territories, unit layers and alignments."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

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


class LayerDeletedV1(EventData):
    """A unit layer that no alignment used was deleted with its units and adjacency."""

    layer_id: str
    name: str


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
    """Units of an alignment moved to another territory (or to none: white space).

    ``layer_id`` is set when the edit moved the draft onto another layer (units split into finer units: the
    layer, announced by its ``geo.layer.imported.v1`` first, is derived from the old one). Its units then replace
    the alignment's: units not in it are gone, its new units start as white space, and ``moves`` tell each split
    unit's territory passing to its pieces.
    """

    alignment_id: str
    version: int
    moves: list[UnitMove]
    layer_id: str | None = Field(
        default=None, description="The alignment's layer after this edit, when the edit changed it"
    )


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


class AlignmentSubmittedV1(EventData):
    """A draft was submitted for approval under its sales force's policy; a new round of approval starts."""

    alignment_id: str
    sales_force: str
    version: int = Field(ge=1, description="The alignment version submitted: an approval holds for it alone")
    levels: int = Field(ge=1, description="How many levels must approve, in order")
    by: str = Field(description="Who submitted it")
    comment: str | None = None


class AlignmentApprovedV1(EventData):
    """One level of a draft's approval policy approved it; ``final`` when it was the last level."""

    alignment_id: str
    sales_force: str
    version: int = Field(ge=1, description="The alignment version approved")
    level: int = Field(ge=1, description="The level that approved (1-based)")
    level_name: str
    final: bool = Field(description="Every level has approved: the draft may be published")
    by: str
    comment: str | None = None


class AlignmentRejectedV1(EventData):
    """A level of a draft's approval policy rejected it, with a comment; the round ends."""

    alignment_id: str
    sales_force: str
    version: int = Field(ge=1)
    level: int = Field(ge=1, description="The level that rejected (1-based)")
    level_name: str
    by: str
    comment: str


class AlignmentApprovalOverriddenV1(EventData):
    """An admin published a draft its sales force's policy had not approved (``override_approval``)."""

    alignment_id: str
    sales_force: str
    version: int = Field(ge=1, description="The alignment version published without approval")
    approval_state: str = Field(
        description="The approval state that was overridden: not_submitted, pending or rejected"
    )
    by: str


class AlignmentPublishScheduledV1(EventData):
    """A draft is to be published at ``effective_at`` (UTC) by geo-service itself."""

    schedule_id: str
    alignment_id: str
    sales_force: str
    effective_at: datetime = Field(description="When, in UTC")
    time_zone: str = Field(description="The IANA time zone the time was given in")
    local_time: str = Field(description="The same instant as wall-clock time in time_zone (ISO 8601, no offset)")
    by: str


class AlignmentPublishCancelledV1(EventData):
    """A scheduled publish will not happen: cancelled (by someone, or by publishing the draft by hand), or failed
    when due for a reason that retrying cannot cure (the alignment is no longer a draft, its approval lapsed...)."""

    schedule_id: str
    alignment_id: str
    sales_force: str
    effective_at: datetime
    state: Literal["cancelled", "failed"]
    reason: str
    by: str


GEO_CONTRACTS = [
    EventContract("geo.territory.created.v1", "geo.territory", TerritoryCreatedV1, "geo-service"),
    EventContract("geo.territory.renamed.v1", "geo.territory", TerritoryRenamedV1, "geo-service"),
    EventContract("geo.territory.deleted.v1", "geo.territory", TerritoryDeletedV1, "geo-service"),
    EventContract("geo.layer.imported.v1", "geo.layer", LayerImportedV1, "geo-service"),
    EventContract("geo.layer.deleted.v1", "geo.layer", LayerDeletedV1, "geo-service"),
    EventContract("geo.alignment.created.v1", "geo.alignment", AlignmentCreatedV1, "geo-service"),
    EventContract("geo.alignment.edited.v1", "geo.alignment", AlignmentEditedV1, "geo-service"),
    EventContract("geo.alignment.published.v1", "geo.alignment", AlignmentPublishedV1, "geo-service"),
    EventContract("geo.alignment.archived.v1", "geo.alignment", AlignmentArchivedV1, "geo-service"),
    EventContract("geo.alignment.deleted.v1", "geo.alignment", AlignmentDeletedV1, "geo-service"),
    EventContract("geo.alignment.submitted.v1", "geo.alignment", AlignmentSubmittedV1, "geo-service"),
    EventContract("geo.alignment.approved.v1", "geo.alignment", AlignmentApprovedV1, "geo-service"),
    EventContract("geo.alignment.rejected.v1", "geo.alignment", AlignmentRejectedV1, "geo-service"),
    EventContract(
        "geo.alignment.approval_overridden.v1", "geo.alignment", AlignmentApprovalOverriddenV1, "geo-service"
    ),
    EventContract("geo.alignment.publish_scheduled.v1", "geo.alignment", AlignmentPublishScheduledV1, "geo-service"),
    EventContract("geo.alignment.publish_cancelled.v1", "geo.alignment", AlignmentPublishCancelledV1, "geo-service"),
]
