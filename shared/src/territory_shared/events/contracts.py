"""Typed, versioned event contracts: one model per event type, and the topic it travels on.

Types are versioned past-tense nouns; a breaking change gets a new ``.vN`` type, never an edit.
Each producing service keeps its models in its own module here (``geo.py``, ...); this module is the
registry. ``python -m territory_shared.events.schemas`` writes each contract's JSON Schema and the
AsyncAPI document under ``shared/schemas/``; a unit test fails when the committed files are stale.
"""

from __future__ import annotations

from territory_shared.events.assignment import ASSIGNMENT_CONTRACTS
from territory_shared.events.base import EventContract, EventData
from territory_shared.events.geo import GEO_CONTRACTS
from territory_shared.events.metrics import METRICS_CONTRACTS

CONTRACTS: dict[str, EventContract] = {c.type: c for c in (*GEO_CONTRACTS, *ASSIGNMENT_CONTRACTS, *METRICS_CONTRACTS)}


def contract_for(event_type: str) -> EventContract:
    try:
        return CONTRACTS[event_type]
    except KeyError:
        raise KeyError(f"unknown event type {event_type!r}") from None


def topics() -> list[str]:
    return sorted({c.topic for c in CONTRACTS.values()})


__all__ = ["CONTRACTS", "EventContract", "EventData", "contract_for", "topics"]
