"""One alignment's metrics, kept incrementally: per-territory sums move with the units.

``AlignmentModel`` holds the unit -> territory labels of an alignment over its layer's per-unit values,
and the per-territory sums of those values. A move subtracts the moved units' rows from the territories
they leave and adds them to the one they join, and forgets the cached shapes of the territories touched
(and of their ancestors): nothing else is recomputed. A what-if works on a copy.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from metrics_service.domain.layer import LayerData
from metrics_service.domain.shapes import ShapeMetrics, dissolve, measure
from metrics_service.domain.travel import Rep, travel_from_homes

WHITE_SPACE = -1


@dataclass(frozen=True)
class TerritoryNode:
    id: str
    code: str
    name: str
    parent_id: str | None = None


@dataclass
class TerritoryMetrics:
    """The metrics of one territory (any level of the hierarchy)."""

    territory_id: str
    code: str
    name: str
    parent_id: str | None
    depth: int
    leaf: bool
    unit_count: int
    values: dict[str, float]
    shape: ShapeMetrics
    reps: int = 0
    primary_rep_id: str | None = None
    capacity_hours: float | None = None
    utilization: float | None = None
    travel_mean_km: float | None = None
    travel_max_km: float | None = None


class UnknownUnits(Exception):
    def __init__(self, unit_ids: Sequence[str]) -> None:
        super().__init__(f"{len(unit_ids)} unit(s) are not in the alignment's layer")
        self.unit_ids = list(unit_ids)


@dataclass
class AlignmentModel:
    alignment_id: str
    layer: LayerData
    territories: dict[str, TerritoryNode]
    labels: np.ndarray  # per unit: territory slot, or WHITE_SPACE
    slots: list[str]  # territory id of each slot
    sums: np.ndarray  # (slots, metrics)
    counts: np.ndarray  # (slots,) units per slot
    revision: int = 0
    rosters: dict[str, list[Rep]] = field(default_factory=dict)  # territory code -> reps
    primary_reps: dict[str, str] = field(default_factory=dict)  # territory code -> its primary rep's id
    # Accounts a rule or an override holds in a territory whatever the map says: territory code -> values over
    # ``layer.metrics`` (zero for unit attributes). They count where their code is, not where their unit is.
    pinned: dict[str, np.ndarray] = field(default_factory=dict)
    # Accounts no territory holds: pinned to none, without a location, outside every unit (over ``layer.metrics``).
    unplaced: np.ndarray | None = None
    _shapes: dict[str, ShapeMetrics] = field(default_factory=dict)
    # Dissolved geometry of each territory: a parent dissolves its children's, not all its units again.
    _geoms: dict[str, Any] = field(default_factory=dict)
    _slot_index: dict[str, int] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        alignment_id: str,
        layer: LayerData,
        membership: Mapping[str, str | None],
        territories: Iterable[TerritoryNode],
        revision: int = 0,
    ) -> AlignmentModel:
        model = cls(
            alignment_id=alignment_id,
            layer=layer,
            territories={t.id: t for t in territories},
            labels=np.full(len(layer), WHITE_SPACE, dtype=np.int64),
            slots=[],
            sums=np.zeros((0, len(layer.metrics))),
            counts=np.zeros(0, dtype=np.int64),
            revision=revision,
        )
        for t in model.territories:
            model._slot(t)
        by_territory: dict[str | None, list[str]] = {}
        for unit_id, territory_id in membership.items():
            by_territory.setdefault(territory_id, []).append(unit_id)
        for territory_id, unit_ids in by_territory.items():
            if territory_id is not None:
                idx = np.array([layer.index[u] for u in unit_ids if u in layer.index], dtype=np.int64)
                model.labels[idx] = model._slot(territory_id)
        assigned = model.labels >= 0
        np.add.at(model.sums, model.labels[assigned], layer.values[assigned])
        model.counts = np.bincount(model.labels[assigned], minlength=len(model.slots)).astype(np.int64)
        return model

    # -- changes -------------------------------------------------------------------------------------

    def _slot(self, territory_id: str) -> int:
        slot = self._slot_index.get(territory_id)
        if slot is not None:
            return slot
        self.slots.append(territory_id)
        self._slot_index[territory_id] = len(self.slots) - 1
        self.sums = np.vstack([self.sums, np.zeros((1, self.sums.shape[1]))])
        self.counts = np.append(self.counts, 0)
        return len(self.slots) - 1

    def unit_indices(self, unit_ids: Sequence[str]) -> np.ndarray:
        unknown = [u for u in unit_ids if u not in self.layer.index]
        if unknown:
            raise UnknownUnits(unknown)
        return np.array([self.layer.index[u] for u in unit_ids], dtype=np.int64)

    def move(self, unit_ids: Sequence[str], territory_id: str | None) -> set[str]:
        """Move units to a territory (None: white space); returns the territories touched."""
        idx = self.unit_indices(unit_ids)
        target = WHITE_SPACE if territory_id is None else self._slot(territory_id)
        idx = idx[self.labels[idx] != target]
        if len(idx) == 0:
            return set()
        old = self.labels[idx]
        rows = self.layer.values[idx]
        leaving = old >= 0
        np.subtract.at(self.sums, old[leaving], rows[leaving])
        np.subtract.at(self.counts, old[leaving], 1)
        if target >= 0:
            self.sums[target] += rows.sum(axis=0)
            self.counts[target] += len(idx)
        self.labels[idx] = target
        touched = {self.slots[s] for s in np.unique(old[leaving]).tolist()}
        if territory_id is not None:
            touched.add(territory_id)
        self._forget_shapes(touched)
        return touched

    def set_territory(self, node: TerritoryNode) -> None:
        previous = self.territories.get(node.id)
        self.territories[node.id] = node
        self._slot(node.id)
        if previous is not None and previous.parent_id != node.parent_id:
            self._shapes.clear()
            self._geoms.clear()

    def remove_territory(self, territory_id: str) -> None:
        if territory_id in self.territories:
            self._forget_shapes({territory_id})
            del self.territories[territory_id]

    def _forget_shapes(self, territory_ids: Iterable[str]) -> None:
        for t in territory_ids:
            node: str | None = t
            seen = 0
            while node is not None and seen < 64:
                self._shapes.pop(node, None)
                self._geoms.pop(node, None)
                parent = self.territories.get(node)
                node = parent.parent_id if parent else None
                seen += 1

    def copy(self) -> AlignmentModel:
        clone = copy.copy(self)
        clone.territories = dict(self.territories)
        clone.labels = self.labels.copy()
        clone.slots = list(self.slots)
        clone._slot_index = dict(self._slot_index)
        clone.sums = self.sums.copy()
        clone.counts = self.counts.copy()
        clone._shapes = dict(self._shapes)
        clone._geoms = dict(self._geoms)
        return clone

    # -- reading -------------------------------------------------------------------------------------

    def membership(self) -> dict[str, str | None]:
        return {
            u: (self.slots[s] if s >= 0 else None)
            for u, s in zip(self.layer.unit_ids.tolist(), self.labels.tolist(), strict=True)
        }

    def white_space(self) -> np.ndarray:
        return np.flatnonzero(self.labels == WHITE_SPACE)

    def _children(self) -> dict[str | None, list[str]]:
        out: dict[str | None, list[str]] = {}
        for t in self.territories.values():
            parent = t.parent_id if t.parent_id in self.territories else None
            out.setdefault(parent, []).append(t.id)
        return out

    def _nodes(self) -> dict[str, TerritoryNode]:
        """Known territories, plus any territory that holds units before its event arrived."""
        nodes = dict(self.territories)
        for s, t in enumerate(self.slots):
            if t not in nodes and self.counts[s] > 0:
                nodes[t] = TerritoryNode(t, t, t, None)
        return nodes

    def territory_metrics(self, only: set[str] | None = None) -> list[TerritoryMetrics]:
        """Metrics of every territory (or of ``only`` those), parents summing their descendants."""
        nodes = self._nodes()
        children: dict[str | None, list[str]] = {}
        for t in nodes.values():
            parent = t.parent_id if t.parent_id in nodes else None
            children.setdefault(parent, []).append(t.id)
        out: list[TerritoryMetrics] = []

        def walk(node_id: str, depth: int) -> list[int]:
            subtree = [self._slot_index[node_id]] if node_id in self._slot_index else []
            for child in sorted(children.get(node_id, []), key=lambda c: nodes[c].code):
                subtree += walk(child, depth + 1)
            if only is None or node_id in only:
                out.append(self._metrics_of(nodes[node_id], depth, children, subtree))
            return subtree

        for root in sorted(children.get(None, []), key=lambda c: nodes[c].code):
            walk(root, 0)
        out.sort(key=lambda m: (m.depth, m.code))
        return out

    def _geometry(self, node_id: str, children: dict[str | None, list[str]]) -> Any:
        """The dissolved territory: its own units, then its children's dissolved shapes."""
        if node_id not in self._geoms:
            slot = self._slot_index.get(node_id)
            own = self.layer.geometries[self.labels == slot] if slot is not None else []
            kids = [self._geometry(c, children) for c in children.get(node_id, [])]
            if not kids:
                self._geoms[node_id] = dissolve(own)
            else:
                own_union = dissolve(own)
                self._geoms[node_id] = dissolve([g for g in [own_union, *kids] if g is not None])
        return self._geoms[node_id]

    def _pinned_of(self, slots: Iterable[int]) -> np.ndarray:
        out = np.zeros(len(self.layer.metrics))
        if self.pinned:
            for s in slots:
                held = self.pinned.get(self._code(self.slots[s]))
                if held is not None:
                    out += held
        return out

    def white_space_values(self) -> np.ndarray:
        """What no territory holds: the units in none, the accounts pinned to none or to a code the alignment
        lacks, and the accounts no unit holds."""
        out: np.ndarray = self.layer.values[self.labels == WHITE_SPACE].sum(axis=0)
        if self.unplaced is not None:
            out = out + self.unplaced
        codes = {t.code for t in self.territories.values()}
        for code, held in self.pinned.items():
            if code not in codes:
                out = out + held
        return out

    def totals(self) -> np.ndarray:
        """Sums over every territory: the units they hold and the accounts pinned to them."""
        sums: np.ndarray = self.layer.values[self.labels >= 0].sum(axis=0) + self._pinned_of(
            self._slot_index[t] for t in self.territories if t in self._slot_index
        )
        return sums

    def _metrics_of(
        self, node: TerritoryNode, depth: int, children: dict[str | None, list[str]], subtree: list[int]
    ) -> TerritoryMetrics:
        sums = self.sums[subtree].sum(axis=0) if subtree else np.zeros(len(self.layer.metrics))
        sums = sums + self._pinned_of(subtree)
        shape = self._shapes.get(node.id)
        if shape is None:
            shape = self._shapes[node.id] = measure(self._geometry(node.id, children))
        values = {m: float(v) for m, v in zip(self.layer.metrics, sums.tolist(), strict=True)}
        metrics = TerritoryMetrics(
            territory_id=node.id,
            code=node.code,
            name=node.name,
            parent_id=node.parent_id,
            depth=depth,
            leaf=not children.get(node.id),
            unit_count=int(self.counts[subtree].sum()) if subtree else 0,
            values=values,
            shape=shape,
        )
        if self.primary_reps:
            metrics.primary_rep_id = self.primary_reps.get(node.code)
        reps = (
            list(
                {r.rep_id: r for t in self._subtree_ids(node.id) for r in self.rosters.get(self._code(t), [])}.values()
            )
            if self.rosters
            else []
        )
        if reps:
            metrics.reps = len(reps)
            capacity = sum(r.capacity_hours for r in reps)
            metrics.capacity_hours = capacity
            if "workload_hours" in values and capacity > 0:
                metrics.utilization = values["workload_hours"] / capacity
            units = np.flatnonzero(np.isin(self.labels, subtree))
            travel = travel_from_homes(reps, self.layer.centroids[units], self._travel_weights(units))
            if travel is not None:
                metrics.travel_mean_km, metrics.travel_max_km = travel
        return metrics

    def _code(self, territory_id: str) -> str:
        node = self.territories.get(territory_id)
        return node.code if node is not None else territory_id

    def _subtree_ids(self, node_id: str) -> list[str]:
        out, stack = [], [node_id]
        children = self._children()
        while stack:
            n = stack.pop()
            out.append(n)
            stack.extend(children.get(n, []))
        return out

    def _travel_weights(self, units: np.ndarray) -> np.ndarray:
        for metric in ("account_potential", "potential"):
            if metric in self.layer.column:
                weights: np.ndarray = self.layer.values[units, self.layer.column[metric]]
                return weights
        return np.ones(len(units))
