"""Base classes of event contracts."""

from __future__ import annotations

import builtins
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict


class EventData(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class EventContract:
    type: str
    topic: str
    # `builtins.type`: inside the class body `type` is the field above.
    model: builtins.type[EventData]
    producer: str
