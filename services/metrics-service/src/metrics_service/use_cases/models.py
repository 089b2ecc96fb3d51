"""A process's alignment models, kept current from the projections without recomputing from scratch.

A cached model remembers the alignment revision it reflects; when the projection moved on, only the
membership rows written after that revision are read and applied as moves (territory sums are
updated by difference), and the territory list is re-read. Accounts or rosters changing rebuilds the
model. The API and the consumer each hold one cache.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from territory_shared.api.problems import NotFound

from metrics_service.db import repository
from metrics_service.db.records import AlignmentProjectionRecord
from metrics_service.domain.alignment import AlignmentModel
from metrics_service.domain.layer import LayerData


@dataclass
class _Cached:
    model: AlignmentModel
    tenant_revision: tuple[int, int]


class ModelCache:
    def __init__(self) -> None:
        self._layers: dict[tuple[str, str, int], LayerData] = {}
        self._models: dict[str, _Cached] = {}
        self._lock = asyncio.Lock()

    def forget(self, alignment_id: str) -> None:
        self._models.pop(alignment_id, None)

    async def alignment(self, session: AsyncSession, tenant_id: str, alignment_id: str) -> AlignmentProjectionRecord:
        row = await repository.alignment(session, tenant_id, alignment_id)
        if row is None:
            raise NotFound(f"Alignment {alignment_id} is not known to metrics-service (yet).")
        return row

    async def model(self, session: AsyncSession, tenant_id: str, alignment_id: str) -> AlignmentModel:
        """The alignment's current model (shared: copy it before changing it)."""
        async with self._lock:
            row = await self.alignment(session, tenant_id, alignment_id)
            tenant_revision = await repository.tenant_revision(session, tenant_id)
            cached = self._models.get(alignment_id)
            if cached is not None and cached.tenant_revision == tenant_revision:
                model = cached.model
                if model.revision == row.revision:
                    return model
                if model.revision < row.revision:
                    await self._catch_up(session, model, row)
                    return model
            model = await self._build(session, row, tenant_revision)
            self._models[alignment_id] = _Cached(model, tenant_revision)
            return model

    async def _catch_up(self, session: AsyncSession, model: AlignmentModel, row: AlignmentProjectionRecord) -> None:
        changed = await repository.memberships(session, row.tenant_id, row.alignment_id, after_revision=model.revision)
        by_target: dict[str | None, list[str]] = {}
        for unit_id, territory_id in changed.items():
            if unit_id in model.layer.index:
                by_target.setdefault(territory_id, []).append(unit_id)
        for territory_id, unit_ids in by_target.items():
            model.move(unit_ids, territory_id)
        nodes = {t.id: t for t in await repository.territories(session, row.tenant_id, row.alignment_id)}
        for gone in set(model.territories) - set(nodes):
            model.remove_territory(gone)
        for node in nodes.values():
            if model.territories.get(node.id) != node:
                model.set_territory(node)
        model.revision = row.revision

    async def layer(self, session: AsyncSession, tenant_id: str, layer_id: str, accounts: int) -> LayerData:
        key = (tenant_id, layer_id, accounts)
        if key not in self._layers:
            base_key = (tenant_id, layer_id, 0)
            base = self._layers.get(base_key) or await repository.layer_data(session, tenant_id, layer_id)
            if base is None:
                raise NotFound(f"Layer {layer_id} is not known to metrics-service (yet).")
            self._layers[base_key] = base
            if accounts:
                # Only the newest account revision of a layer is worth keeping.
                for old in [k for k in self._layers if k[:2] == key[:2] and k[2] not in (0, accounts)]:
                    del self._layers[old]
                self._layers[key] = await repository.with_accounts(session, tenant_id, base)
        return self._layers[key]

    async def _build(
        self, session: AsyncSession, row: AlignmentProjectionRecord, tenant_revision: tuple[int, int]
    ) -> AlignmentModel:
        layer = await self.layer(session, row.tenant_id, row.layer_id, tenant_revision[0])
        model = AlignmentModel.build(
            row.alignment_id,
            layer,
            await repository.memberships(session, row.tenant_id, row.alignment_id),
            await repository.territories(session, row.tenant_id, row.alignment_id),
            revision=row.revision,
        )
        model.rosters = await repository.rosters(session, row.tenant_id, row.sales_force)
        return model
