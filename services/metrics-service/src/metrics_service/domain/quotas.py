"""Quotas: a sales force's goal for a period split top-down over the leaf territories, then rolled up.

A leaf's base quota is ``goal x share``, its share of the plan's weighted measure: ``w x potential / total
potential + (1 - w) x revenue / total revenue`` over the leaf territories (``w`` = 1 for ``potential``, 0 for
``revenue``). The plan's adjustments (summing to zero) are added, so the leaves still add up to the goal; a parent's
quota is the sum of its children's. A rep's quota is the sum of the leaves they hold as primary rep.

A period may be cut into segments by realignments: each segment is allocated with its own alignment's figures, and
a territory's (or a rep's) quota for the period is each segment's quota weighted by its share of the period's days.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from metrics_service.domain.alignment import AlignmentModel

METHODS = ("potential", "revenue", "blend")
POTENTIAL, REVENUE = "account_potential", "account_revenue"


class PlanRefused(Exception):
    """A plan that cannot be set: ``field`` names the input, ``extra`` what the caller needs to fix it."""

    def __init__(self, field: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.field, self.detail, self.extra = field, detail, extra


class NothingToAllocate(Exception):
    """The alignment's leaf territories hold none of the measure the goal is split by (e.g. no accounts yet)."""

    def __init__(self, measure: str) -> None:
        super().__init__(f"the leaf territories hold no {measure} to split the goal by")
        self.measure = measure


@dataclass(frozen=True)
class QuotaPlan:
    goal: float
    starts_on: date
    ends_on: date  # inclusive
    method: str
    potential_weight: float
    adjustments: Mapping[str, float] = field(default_factory=dict)

    @property
    def days(self) -> int:
        return (self.ends_on - self.starts_on).days + 1


def checked_plan(
    goal: float,
    starts_on: date,
    ends_on: date,
    method: str,
    potential_weight: float | None,
    adjustments: Mapping[str, float],
) -> QuotaPlan:
    """The plan, or ``PlanRefused`` naming what is wrong: its dates, its weight, adjustments that do not sum to 0."""
    if not (math.isfinite(goal) and goal > 0):
        raise PlanRefused("goal", "the goal must be a positive amount")
    if ends_on < starts_on:
        raise PlanRefused("ends_on", f"the period ends ({ends_on}) before it starts ({starts_on})")
    if method not in METHODS:
        raise PlanRefused("method", f"method must be one of {', '.join(METHODS)}")
    implied = {"potential": 1.0, "revenue": 0.0}.get(method)
    if implied is None:
        if potential_weight is None:
            raise PlanRefused("potential_weight", "a blend needs potential_weight, the weight of potential (0 to 1)")
        weight = potential_weight
    else:
        if potential_weight is not None and potential_weight != implied:
            raise PlanRefused(
                "potential_weight", f"method {method} weighs potential {implied:g}; use method blend for another weight"
            )
        weight = implied
    if not (0.0 <= weight <= 1.0):
        raise PlanRefused("potential_weight", "potential_weight must be between 0 and 1")
    off = math.fsum(adjustments.values())
    if abs(off) > 1e-9 * max(1.0, math.fsum(abs(a) for a in adjustments.values())):
        raise PlanRefused(
            "adjustments",
            f"adjustments must sum to 0 so that the quotas still add up to the goal; they sum to {off:g}",
            off_by=off,
        )
    return QuotaPlan(goal, starts_on, ends_on, method, weight, {c: a for c, a in adjustments.items() if a != 0})


@dataclass(frozen=True)
class TerritoryFigures:
    """One territory of an alignment and what its accounts hold (a parent: its descendants' sums)."""

    code: str
    name: str
    parent_code: str | None
    is_leaf: bool
    potential: float
    revenue: float


def figures_of(model: AlignmentModel) -> list[TerritoryFigures]:
    """Each territory's account potential and revenue, as the alignment's metrics count them (by owner: the units'
    accounts plus those pinned to the territory), parents summing their descendants; in depth-first code order."""
    nodes = model.territories
    children: dict[str | None, list[str]] = {}
    for t in nodes.values():
        children.setdefault(t.parent_id if t.parent_id in nodes else None, []).append(t.id)
    column = model.layer.column
    cols = [column.get(POTENTIAL), column.get(REVENUE)]
    slot = {t: s for s, t in enumerate(model.slots)}

    def own(territory_id: str) -> np.ndarray:
        out = np.zeros(2)
        s = slot.get(territory_id)
        pinned = model.pinned.get(nodes[territory_id].code)
        for k, c in enumerate(cols):
            if c is not None:
                out[k] += (model.sums[s, c] if s is not None else 0.0) + (pinned[c] if pinned is not None else 0.0)
        return out

    out: list[TerritoryFigures] = []

    def walk(territory_id: str, parent_code: str | None) -> np.ndarray:
        node = nodes[territory_id]
        index = len(out)
        out.append(TerritoryFigures(node.code, node.name, parent_code, True, 0.0, 0.0))
        kids = sorted(children.get(territory_id, []), key=lambda c: nodes[c].code)
        total = own(territory_id)
        for kid in kids:
            total = total + walk(kid, node.code)
        out[index] = TerritoryFigures(node.code, node.name, parent_code, not kids, float(total[0]), float(total[1]))
        return total

    for root in sorted(children.get(None, []), key=lambda c: nodes[c].code):
        walk(root, None)
    return out


@dataclass(frozen=True)
class TerritoryAllocation:
    figures: TerritoryFigures
    share: float
    base_quota: float
    adjustment: float

    @property
    def quota(self) -> float:
        return self.base_quota + self.adjustment


@dataclass(frozen=True)
class Allocation:
    """The goal split over one alignment's territories, as if it were in effect for the whole period."""

    territories: dict[str, TerritoryAllocation]  # by code, parents before their children
    # The plan's adjustments this alignment cannot take: all of them when one names no leaf territory of it
    # (applying only some would no longer add up to the goal).
    unapplied: dict[str, float]


def allocate(plan: QuotaPlan, figures: Sequence[TerritoryFigures]) -> Allocation:
    leaves = [f for f in figures if f.is_leaf]
    w = plan.potential_weight
    total_potential = math.fsum(f.potential for f in leaves)
    total_revenue = math.fsum(f.revenue for f in leaves)
    if w > 0 and total_potential <= 0:
        raise NothingToAllocate("account potential")
    if w < 1 and total_revenue <= 0:
        raise NothingToAllocate("account revenue")
    leaf_codes = {f.code for f in leaves}
    applied = set(plan.adjustments) <= leaf_codes
    out: dict[str, TerritoryAllocation] = {}
    for f in leaves:
        share = (w * f.potential / total_potential if w > 0 else 0.0) + (
            (1 - w) * f.revenue / total_revenue if w < 1 else 0.0
        )
        adjustment = plan.adjustments.get(f.code, 0.0) if applied else 0.0
        out[f.code] = TerritoryAllocation(f, share, plan.goal * share, adjustment)
    children: dict[str, list[str]] = {}
    for f in figures:
        if f.parent_code is not None:
            children.setdefault(f.parent_code, []).append(f.code)
    by_code = {f.code: f for f in figures}

    def rolled(code: str) -> TerritoryAllocation:
        if code not in out:
            kids = [rolled(c) for c in children.get(code, [])]
            out[code] = TerritoryAllocation(
                by_code[code],
                math.fsum(k.share for k in kids),
                math.fsum(k.base_quota for k in kids),
                math.fsum(k.adjustment for k in kids),
            )
        return out[code]

    for f in figures:
        rolled(f.code)
    return Allocation({f.code: out[f.code] for f in figures}, {} if applied else dict(plan.adjustments))


def check_adjustments(plan: QuotaPlan, figures: Sequence[TerritoryFigures]) -> None:
    """Adjustments name leaf territories of the alignment and leave no leaf with a negative quota."""
    leaves = {f.code for f in figures if f.is_leaf}
    unknown = sorted(set(plan.adjustments) - leaves)
    if unknown:
        raise PlanRefused(
            "adjustments",
            f"adjustments may name only leaf territories of the alignment; not: {', '.join(unknown[:20])}",
            codes=unknown,
        )
    try:
        allocation = allocate(plan, figures)
    except NothingToAllocate:
        return  # nothing to compare the adjustments with yet
    negative = sorted(c for c, t in allocation.territories.items() if t.figures.is_leaf and t.quota < 0)
    if negative:
        raise PlanRefused(
            "adjustments",
            f"adjustments would leave a negative quota in {', '.join(negative[:20])}",
            codes=negative,
        )


@dataclass(frozen=True)
class RepRef:
    rep_id: str
    external_id: str | None


@dataclass(frozen=True)
class Segment:
    """Days of the period (``starts_on`` to ``ends_on``, inclusive) during which one alignment was in effect."""

    alignment_id: str
    starts_on: date
    ends_on: date
    allocation: Allocation
    primary: Mapping[str, RepRef]  # leaf territory code -> its primary rep
    state: str  # closed | open | preview

    @property
    def days(self) -> int:
        return max(0, (self.ends_on - self.starts_on).days + 1)


@dataclass
class TerritoryQuota:
    code: str
    name: str
    parent_code: str | None
    is_leaf: bool
    in_alignment: bool  # False: a territory of an earlier segment only, listed for its part of the period
    potential: float | None
    revenue: float | None
    share: float | None
    base_quota: float
    adjustment: float
    allocation: float  # base_quota + adjustment: this alignment's quota over the whole period
    quota: float  # the period's quota: every segment's, weighted by its days
    primary_rep_id: str | None = None

    @property
    def attainment(self) -> float | None:
        return self.revenue / self.quota if self.revenue is not None and self.quota > 0 else None


@dataclass
class RepQuota:
    rep_id: str
    external_id: str | None
    territory_codes: list[str]  # the leaves held as primary in the alignment shown
    allocation: float
    quota: float
    revenue: float

    @property
    def attainment(self) -> float | None:
        return self.revenue / self.quota if self.quota > 0 else None


@dataclass
class PeriodQuotas:
    territories: list[TerritoryQuota]
    reps: list[RepQuota]
    unassigned: float  # the part of the goal in leaves with no primary rep
    unapplied: dict[str, float]


def period_quotas(plan: QuotaPlan, segments: Sequence[Segment]) -> PeriodQuotas:
    """The period's quotas: per leaf and per rep, each segment's allocation x its days / the period's days; the
    hierarchy and figures of the last segment (the alignment shown); parents are the sums of their children."""
    shown = segments[-1]
    direct: dict[str, float] = {}
    reps: dict[str, float] = {}
    refs: dict[str, RepRef] = {}
    seen: dict[str, TerritoryFigures] = {}
    for s in segments:
        weight = s.days / plan.days
        for code, t in s.allocation.territories.items():
            if not t.figures.is_leaf:
                continue
            seen[code] = t.figures
            direct[code] = direct.get(code, 0.0) + t.quota * weight
            rep = s.primary.get(code)
            if rep is not None:
                reps[rep.rep_id] = reps.get(rep.rep_id, 0.0) + t.quota * weight
                refs[rep.rep_id] = rep
    current = shown.allocation.territories
    rows: dict[str, TerritoryQuota] = {}
    for code, t in current.items():
        f = t.figures
        rep = shown.primary.get(code) if f.is_leaf else None
        rows[code] = TerritoryQuota(
            code, f.name, f.parent_code, f.is_leaf, True, f.potential, f.revenue, t.share, t.base_quota,
            t.adjustment, t.quota, 0.0, rep.rep_id if rep else None,
        )  # fmt: skip
    # Territories of earlier segments the alignment shown lacks keep their part of the period, under their old
    # parent when the alignment shown still has it as a parent.
    for code in sorted(set(direct) - set(current)):
        f = seen[code]
        parent = f.parent_code if f.parent_code in current and not current[f.parent_code].figures.is_leaf else None
        rows[code] = TerritoryQuota(code, f.name, parent, True, False, None, None, None, 0.0, 0.0, 0.0, 0.0)
    children: dict[str | None, list[str]] = {}
    for r in rows.values():
        children.setdefault(r.parent_code if r.parent_code in rows else None, []).append(r.code)
    ordered: list[TerritoryQuota] = []

    def roll(code: str) -> float:
        row = rows[code]
        ordered.append(row)
        row.quota = direct.get(code, 0.0) + math.fsum(roll(c) for c in sorted(children.get(code, [])))
        return row.quota

    for root in sorted(children.get(None, [])):
        roll(root)
    rep_rows: dict[str, RepQuota] = {}
    for code, rep in sorted(shown.primary.items()):
        held = current.get(code)
        if held is None or not held.figures.is_leaf:
            continue
        row = rep_rows.setdefault(rep.rep_id, RepQuota(rep.rep_id, rep.external_id, [], 0.0, 0.0, 0.0))
        row.territory_codes.append(code)
        row.allocation += held.quota
        row.revenue += held.figures.revenue
    for rep_id, quota in reps.items():
        ref = refs[rep_id]
        rep_rows.setdefault(rep_id, RepQuota(rep_id, ref.external_id, [], 0.0, 0.0, 0.0)).quota = quota
    leaves_total = math.fsum(direct.values())
    return PeriodQuotas(
        territories=ordered,
        reps=sorted(rep_rows.values(), key=lambda r: (r.external_id or "", r.rep_id)),
        unassigned=leaves_total - math.fsum(reps.values()),
        unapplied=dict(shown.allocation.unapplied),
    )


def frozen_figures(figures: Iterable[TerritoryFigures], primary: Mapping[str, RepRef]) -> dict[str, Any]:
    """A segment's figures and primary reps as stored when it closes (JSON)."""
    return {
        "territories": [
            {
                "code": f.code,
                "name": f.name,
                "parent_code": f.parent_code,
                "is_leaf": f.is_leaf,
                "potential": f.potential,
                "revenue": f.revenue,
            }
            for f in figures
        ],
        "primary": {code: {"rep_id": r.rep_id, "external_id": r.external_id} for code, r in primary.items()},
    }


def thawed_figures(frozen: Mapping[str, Any]) -> tuple[list[TerritoryFigures], dict[str, RepRef]]:
    figures = [
        TerritoryFigures(t["code"], t["name"], t["parent_code"], t["is_leaf"], t["potential"], t["revenue"])
        for t in frozen.get("territories", [])
    ]
    primary = {code: RepRef(r["rep_id"], r.get("external_id")) for code, r in frozen.get("primary", {}).items()}
    return figures, primary
