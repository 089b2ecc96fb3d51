"""Alignments (scenarios): one complete mapping of a layer's units to territories for one sales force.

States: ``draft`` -> ``active`` -> ``archived``. Only drafts are edited or deleted; publishing a
draft archives the sales force's previous active alignment in the same step.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from territory_shared.errors import Conflict

DRAFT, ACTIVE, ARCHIVED = "draft", "active", "archived"


@dataclass
class Alignment:
    id: str
    tenant_id: str
    layer_id: str
    sales_force: str
    name: str
    state: str
    version: int
    copied_from: str | None
    created_at: datetime
    published_at: datetime | None = None

    @classmethod
    def new_draft(
        cls, tenant_id: str, layer_id: str, sales_force: str, name: str, copied_from: str | None = None
    ) -> Alignment:
        return cls(
            id=str(uuid.uuid4()),
            tenant_id=tenant_id,
            layer_id=layer_id,
            sales_force=sales_force,
            name=name,
            state=DRAFT,
            version=1,
            copied_from=copied_from,
            created_at=datetime.now(UTC),
        )

    def require_draft(self, action: str) -> None:
        if self.state != DRAFT:
            raise Conflict(
                f"Alignment {self.id} is {self.state}: only a draft can be {action}. Copy it to a new draft first.",
                state=self.state,
            )

    def edited(self) -> None:
        self.require_draft("edited")
        self.version += 1

    def moved_to_layer(self, layer_id: str) -> None:
        """The draft now maps the units of ``layer_id`` (a layer derived from its own by splitting units)."""
        self.require_draft("split")
        self.layer_id = layer_id
        self.version += 1

    def publish(self) -> None:
        self.require_draft("published")
        self.state = ACTIVE
        self.version += 1
        self.published_at = datetime.now(UTC)

    def archive(self) -> None:
        if self.state == ARCHIVED:
            raise Conflict(f"Alignment {self.id} is already archived.", state=self.state)
        self.state = ARCHIVED
        self.version += 1
