"""Typed, versioned event contracts: one model per event type, and the topic it travels on.

Types are versioned past-tense nouns; a breaking change gets a new ``.vN`` type, never an edit.
``python -m territory_shared.events.schemas`` writes each contract's JSON Schema and the AsyncAPI
document under ``shared/schemas/``; a unit test fails when the committed files are stale.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field


class EventData(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TerritoryCreatedV1(EventData):
    """A territory was created in geo-service."""

    territory_id: str
    code: str
    name: str
    version: int = Field(ge=1, description="The territory's version after this change")


class TerritoryRenamedV1(EventData):
    """A territory's name or code changed."""

    territory_id: str
    code: str
    name: str
    version: int = Field(ge=1)


class TerritoryDeletedV1(EventData):
    """A territory was deleted."""

    territory_id: str
    version: int = Field(ge=1)


@dataclass(frozen=True)
class EventContract:
    type: str
    topic: str
    model: type[EventData]
    producer: str


CONTRACTS: dict[str, EventContract] = {
    c.type: c
    for c in (
        EventContract("geo.territory.created.v1", "geo.territory", TerritoryCreatedV1, "geo-service"),
        EventContract("geo.territory.renamed.v1", "geo.territory", TerritoryRenamedV1, "geo-service"),
        EventContract("geo.territory.deleted.v1", "geo.territory", TerritoryDeletedV1, "geo-service"),
    )
}


def contract_for(event_type: str) -> EventContract:
    try:
        return CONTRACTS[event_type]
    except KeyError:
        raise KeyError(f"unknown event type {event_type!r}") from None


def topics() -> list[str]:
    return sorted({c.topic for c in CONTRACTS.values()})
