"""A process's alignment models, kept current from the projections without recomputing from scratch.

A cached model remembers the alignment revision it reflects; when the projection moved on, only the
membership rows written after that revision are read and applied as moves (territory sums are
updated by difference), and the territory list is re-read. Accounts, their owners or rosters changing
rebuilds the model, and so does a new day (roster entries have dates). Accounts count by their owner in the
alignment's sales force, so a layer's account sums are kept per sales force. The API and the consumer each
hold one cache.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession
from territory_shared.errors import NotFound

from metrics_service.db import repository
from metrics_service.db.records import AlignmentProjectionRecord
from metrics_service.domain.alignment import AlignmentModel
from metrics_service.domain.layer import LayerData


@dataclass
class _Cached:
    model: AlignmentModel
    tenant_revision: tuple[int, int]
    day: date


@dataclass
class _Owned:
    """A layer with the per-unit sums of the accounts that follow their unit, and those pinned elsewhere."""

    layer: LayerData
    pinned: dict[str, np.ndarray]
    unplaced: np.ndarray | None


class ModelCache:
    def __init__(self) -> None:
        self._layers: dict[tuple[str, str, str, str | None, int], LayerData | _Owned] = {}
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
            today = datetime.now(UTC).date()
            cached = self._models.get(alignment_id)
            # A draft moved onto another layer (units split) is built afresh: its units are not the cached ones.
            if (
                cached is not None
                and cached.tenant_revision == tenant_revision
                and cached.day == today
                and cached.model.layer.layer_id == row.layer_id
            ):
                model = cached.model
                if model.revision == row.revision:
                    return model
                if model.revision < row.revision:
                    await self._catch_up(session, model, row)
                    return model
            model = await self._build(session, row, tenant_revision, today)
            self._models[alignment_id] = _Cached(model, tenant_revision, today)
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

    async def _base(self, session: AsyncSession, tenant_id: str, layer_id: str) -> LayerData:
        key = (tenant_id, layer_id, "", None, 0)
        base = self._layers.get(key)
        if base is None:
            base = await repository.layer_data(session, tenant_id, layer_id)
            if base is None:
                raise NotFound(f"Layer {layer_id} is not known to metrics-service (yet).")
            self._layers[key] = base
        assert isinstance(base, LayerData)
        return base

    async def _owned(
        self, session: AsyncSession, tenant_id: str, layer_id: str, sales_force: str, accounts: int
    ) -> _Owned:
        base = await self._base(session, tenant_id, layer_id)
        units_from = await repository.active_layer(session, tenant_id, sales_force)
        key = (tenant_id, layer_id, sales_force, units_from, accounts)
        found = self._layers.get(key)
        if isinstance(found, _Owned):
            return found
        # Only the newest account revision of a layer and sales force is worth keeping.
        for old in [k for k in self._layers if k[:3] == key[:3] and k != key]:
            del self._layers[old]
        owned = await repository.owned_accounts(session, tenant_id, sales_force, base, units_from)
        if owned is None:
            entry = _Owned(base, {}, None)
        else:
            layer = base.with_sums(owned.names, owned.units)
            cols = [layer.column[n] for n in owned.names]

            def widen(v: np.ndarray) -> np.ndarray:
                out = np.zeros(len(layer.metrics))
                out[cols] = v
                return out

            entry = _Owned(layer, {c: widen(v) for c, v in owned.pinned.items()}, widen(owned.unplaced))
        self._layers[key] = entry
        return entry

    async def _build(
        self, session: AsyncSession, row: AlignmentProjectionRecord, tenant_revision: tuple[int, int], today: date
    ) -> AlignmentModel:
        owned = await self._owned(session, row.tenant_id, row.layer_id, row.sales_force, tenant_revision[0])
        model = AlignmentModel.build(
            row.alignment_id,
            owned.layer,
            await repository.memberships(session, row.tenant_id, row.alignment_id),
            await repository.territories(session, row.tenant_id, row.alignment_id),
            revision=row.revision,
        )
        model.pinned, model.unplaced = owned.pinned, owned.unplaced
        rosters = await repository.rosters(session, row.tenant_id, row.sales_force, today)
        model.rosters, model.primary_reps = rosters.reps, rosters.primary
        return model
