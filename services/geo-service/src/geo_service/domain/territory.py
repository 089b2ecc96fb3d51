"""Territories: nodes of an alignment's hierarchy. At this stage a territory has a code and a name."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from territory_shared.events.contracts import (
    EventData,
    TerritoryCreatedV1,
    TerritoryDeletedV1,
    TerritoryRenamedV1,
)


@dataclass
class Territory:
    id: str
    tenant_id: str
    code: str
    name: str
    version: int

    @classmethod
    def create(cls, tenant_id: str, code: str, name: str) -> tuple[Territory, EventData]:
        territory = cls(id=str(uuid.uuid4()), tenant_id=tenant_id, code=code, name=name, version=1)
        return territory, TerritoryCreatedV1(territory_id=territory.id, code=code, name=name, version=1)

    def rename(self, *, name: str | None = None, code: str | None = None) -> EventData | None:
        """Apply a new name and/or code; None when nothing changes (no version bump, no event)."""
        new_name = self.name if name is None else name
        new_code = self.code if code is None else code
        if (new_name, new_code) == (self.name, self.code):
            return None
        self.name, self.code = new_name, new_code
        self.version += 1
        return TerritoryRenamedV1(territory_id=self.id, code=self.code, name=self.name, version=self.version)

    def delete(self) -> EventData:
        self.version += 1
        return TerritoryDeletedV1(territory_id=self.id, version=self.version)
