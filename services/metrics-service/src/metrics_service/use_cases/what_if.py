"""What if these units moved? The metrics after the moves, computed on a copy: nothing is stored.

Only the territories touched (and their ancestors) get new sums and shapes; the others keep theirs, so
the answer costs a few dissolves, whatever the size of the alignment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from metrics_service.domain.alignment import AlignmentModel, TerritoryMetrics
from metrics_service.domain.analysis import BalanceReport, balance_report, level_rows


class UnknownTerritory(Exception):
    def __init__(self, territory_id: str) -> None:
        super().__init__(f"Territory {territory_id} is not in this alignment.")
        self.territory_id = territory_id


class ParentTerritory(Exception):
    """Only leaves hold units: geo-service refuses the real move (409), so the what-if refuses it too."""

    def __init__(self, territory_id: str, code: str) -> None:
        super().__init__(f"Territory {code} has child territories: move units to a leaf.")
        self.territory_id = territory_id


@dataclass(frozen=True)
class WhatIfResult:
    touched: list[str]
    before: list[TerritoryMetrics]
    after: list[TerritoryMetrics]
    balance_before: BalanceReport | None
    balance_after: BalanceReport | None
    scenario: AlignmentModel


def what_if(
    base: AlignmentModel,
    moves: Sequence[tuple[Sequence[str], str | None]],
    metric: str | None = None,
    tolerance: float = 0.05,
    target: float | None = None,
    all_territories: bool = False,
) -> WhatIfResult:
    scenario = base.copy()
    touched: set[str] = set()
    parents = {t.parent_id for t in base.territories.values() if t.parent_id is not None}
    for unit_ids, territory_id in moves:
        if territory_id is not None and territory_id not in base.territories:
            raise UnknownTerritory(territory_id)
        if territory_id in parents:
            raise ParentTerritory(territory_id, base.territories[territory_id].code)
        touched |= scenario.move(unit_ids, territory_id)
    shown = set(touched)
    for t in touched:
        node = base.territories.get(t)
        while node is not None and node.parent_id is not None and node.parent_id not in shown:
            shown.add(node.parent_id)
            node = base.territories.get(node.parent_id)
    only = None if all_territories else shown
    before_all = base.territory_metrics() if metric is not None else None
    after_all = scenario.territory_metrics() if metric is not None else None
    report_before = report_after = None
    if metric is not None and before_all is not None and after_all is not None:
        # Balance needs every leaf: their sums are cheap and their shapes are cached.
        report_before = balance_report(level_rows(before_all, None), metric, tolerance, target)
        report_after = balance_report(level_rows(after_all, None), metric, tolerance, target)
    before = base.territory_metrics(only) if before_all is None or only else before_all
    after = scenario.territory_metrics(only) if after_all is None or only else after_all
    return WhatIfResult(sorted(touched), before, after, report_before, report_after, scenario)
