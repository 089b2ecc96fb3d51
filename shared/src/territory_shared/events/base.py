"""Base classes of event contracts."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict


class EventData(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class EventContract:
    type: str
    topic: str
    model: type[EventData]
    producer: str
