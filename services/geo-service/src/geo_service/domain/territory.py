"""Territories: nodes of an alignment's hierarchy (region > district > territory, any depth).

Leaves own units; upper levels own their children. A territory may also stand on its own, outside
any alignment (``alignment_id`` None), e.g. a named-account team.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import Enum

from territory_shared.events.contracts import EventData
from territory_shared.events.geo import TerritoryCreatedV1, TerritoryDeletedV1, TerritoryRenamedV1


class Unchanged(Enum):
    """A field a change leaves as it is, where None is a value (no colour, the top level)."""

    UNCHANGED = "unchanged"


UNCHANGED = Unchanged.UNCHANGED


@dataclass
class Territory:
    id: str
    tenant_id: str
    code: str
    name: str
    version: int
    alignment_id: str | None = None
    parent_id: str | None = None
    colour: str | None = None

    @classmethod
    def create(
        cls,
        tenant_id: str,
        code: str,
        name: str,
        *,
        alignment_id: str | None = None,
        parent_id: str | None = None,
        colour: str | None = None,
        territory_id: str | None = None,
    ) -> tuple[Territory, EventData]:
        territory = cls(
            id=territory_id or str(uuid.uuid4()),
            tenant_id=tenant_id,
            code=code,
            name=name,
            version=1,
            alignment_id=alignment_id,
            parent_id=parent_id,
            colour=colour,
        )
        return territory, TerritoryCreatedV1(
            territory_id=territory.id,
            code=code,
            name=name,
            version=1,
            alignment_id=alignment_id,
            parent_id=parent_id,
            colour=colour,
        )

    def rename(
        self,
        *,
        name: str | None = None,
        code: str | None = None,
        colour: str | None | Unchanged = UNCHANGED,
        parent_id: str | None | Unchanged = UNCHANGED,
    ) -> EventData | None:
        """Apply a new name, code, colour and/or parent (None: the top level); None when nothing changes (no
        version bump, no event). Whether the parent may be set is the caller's check (see ``hierarchy``)."""
        new = (
            self.name if name is None else name,
            self.code if code is None else code,
            self.colour if isinstance(colour, Unchanged) else colour,
            self.parent_id if isinstance(parent_id, Unchanged) else parent_id,
        )
        if new == (self.name, self.code, self.colour, self.parent_id):
            return None
        self.name, self.code, self.colour, self.parent_id = new
        self.version += 1
        return TerritoryRenamedV1(
            territory_id=self.id,
            code=self.code,
            name=self.name,
            version=self.version,
            alignment_id=self.alignment_id,
            parent_id=self.parent_id,
            colour=self.colour,
        )

    def delete(self) -> EventData:
        self.version += 1
        return TerritoryDeletedV1(territory_id=self.id, version=self.version)
