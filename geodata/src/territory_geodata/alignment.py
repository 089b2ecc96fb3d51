"""A starting alignment for the demo: counties -> territories -> regions, deliberately imperfect.

It is drawn the way legacy alignments often are, so that the first screen shows something worth fixing:
- territories are handed out to states in proportion to potential ** 0.75, not to potential: big states get too
  few territories and small states too many (imbalance across territories);
- a state that would get less than 0.6 of a territory is grouped with a neighbouring state (same Census region
  first; Alaska and Hawaii have no neighbour and stand alone), giving contiguous clusters of states;
- a state group is cut into its territories by recursive bisection of its counties weighted by potential ** 0.5,
  not by potential (imbalance inside states: the metro territory is too heavy);
- the counties around ``gap_seeds`` (Wake County NC, Raleigh, and Travis County TX, Austin, by default: each seed
  county and its neighbours) belong to no territory: a market gap, i.e. potential that no one covers.

Territory codes are ``<main state>-<nn>`` (``NC-01``); regions are the four Census regions (``R-S`` = South).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from .bisection import bisect, project_km
from .counties import Counties

DEFAULT_GAP_SEEDS = ("37183", "48453")
ALLOCATION_EXPONENT = 0.75
SPLIT_WEIGHT_EXPONENT = 0.5
MERGE_BELOW = 0.6
REGION_CODES = {"Northeast": "R-NE", "Midwest": "R-MW", "South": "R-S", "West": "R-W"}


@dataclass(frozen=True)
class Territory:
    code: str
    name: str
    region_code: str
    states: tuple[str, ...]  # postal abbreviations, main state first


@dataclass(frozen=True)
class Alignment:
    unit_ids: np.ndarray  # county FIPS that belong to a territory
    territory_codes: np.ndarray  # aligned with unit_ids
    territories: tuple[Territory, ...]
    regions: tuple[tuple[str, str], ...]  # (code, name)
    unassigned: np.ndarray  # county FIPS in no territory: the market gap

    def as_dict(self) -> dict[str, str]:
        return dict(zip(self.unit_ids.tolist(), self.territory_codes.tolist(), strict=True))


def county_adjacency(counties: Counties) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i, j), i < j, of counties that share a border (or a corner)."""
    tree = shapely.STRtree(counties.geometries)
    a, b = tree.query(counties.geometries, predicate="intersects")
    keep = a < b
    return a[keep], b[keep]


def starting_alignment(
    counties: Counties,
    n_territories: int = 100,
    gap_seeds: Sequence[str] = DEFAULT_GAP_SEEDS,
) -> Alignment:
    """Assign ``counties`` to ``n_territories`` territories (see the module docstring); deterministic."""
    a, b = county_adjacency(counties)
    gap = np.isin(counties.ids, list(gap_seeds))
    seeds = np.flatnonzero(gap)
    gap[b[np.isin(a, seeds)]] = True
    gap[a[np.isin(b, seeds)]] = True
    assigned = np.flatnonzero(~gap)

    state_of = counties.state_abbr
    states = sorted(set(state_of[assigned].tolist()))
    potential = {s: float(counties.potential[assigned][state_of[assigned] == s].sum()) for s in states}
    neighbours = {s: set() for s in states}
    for i, j in zip(a.tolist(), b.tolist(), strict=True):
        si, sj = state_of[i], state_of[j]
        if si != sj and si in neighbours and sj in neighbours:
            neighbours[si].add(sj)
            neighbours[sj].add(si)
    region = {s: counties.region[state_of == s][0] for s in states}
    groups = _group_states(states, potential, neighbours, region, n_territories)
    counts = _allocate(groups, potential, n_territories, {s: int((state_of[assigned] == s).sum()) for s in states})

    lon, lat = shapely.get_coordinates(shapely.point_on_surface(counties.geometries)).T
    x, y = project_km(lon, lat)
    unit_ids, codes, territories = [], [], []
    for group, k in zip(groups, counts, strict=True):
        members = assigned[np.isin(state_of[assigned], group)]
        weight = counties.potential[members].astype(np.float64) ** SPLIT_WEIGHT_EXPONENT + 1.0
        labels = bisect(x[members], y[members], weight, k)
        name = _group_name(group, counties)
        for t in range(k):
            code = f"{group[0]}-{t + 1:02d}"
            territories.append(
                Territory(code, name if k == 1 else f"{name} {t + 1}", REGION_CODES[region[group[0]]], tuple(group))
            )
            unit_ids.append(counties.ids[members[labels == t]])
            codes.append(np.full(int((labels == t).sum()), code))
    unit_ids_arr, codes_arr = np.concatenate(unit_ids), np.concatenate(codes)
    order = np.argsort(unit_ids_arr, kind="stable")
    used_regions = sorted({t.region_code for t in territories})
    return Alignment(
        unit_ids=unit_ids_arr[order],
        territory_codes=codes_arr[order],
        territories=tuple(sorted(territories, key=lambda t: t.code)),
        regions=tuple((code, name) for name, code in REGION_CODES.items() if code in used_regions),
        unassigned=counties.ids[gap],
    )


def _shares(groups: list[list[str]], potential: dict[str, float], n: int) -> np.ndarray:
    mass = np.array([sum(potential[s] for s in g) for g in groups]) ** ALLOCATION_EXPONENT
    return n * mass / mass.sum()


def _group_states(
    states: list[str],
    potential: dict[str, float],
    neighbours: dict[str, set[str]],
    region: dict[str, str],
    n: int,
) -> list[list[str]]:
    """Merge the smallest state group into a neighbour until every group earns MERGE_BELOW of a territory."""
    groups = [[s] for s in sorted(states, key=lambda s: -potential[s])]
    while len(groups) > 1:
        share = _shares(groups, potential, n)
        small = [
            i
            for i in np.argsort(share, kind="stable").tolist()
            if any(neighbours[s] for s in groups[i]) or len(groups) > n
        ]
        if not small or (share[small[0]] >= MERGE_BELOW and len(groups) <= n):
            break
        i = small[0]
        touching = [j for j, g in enumerate(groups) if j != i and any(neighbours[s] & set(g) for s in groups[i])]
        if not touching:  # an island (Alaska, Hawaii) only merges when there are more groups than territories
            touching = [j for j in range(len(groups)) if j != i]
        same_region = [j for j in touching if region[groups[j][0]] == region[groups[i][0]]]
        j = min(same_region or touching, key=lambda j: (share[j], groups[j][0]))
        merged = sorted(groups[i] + groups[j], key=lambda s: -potential[s])
        groups = [g for k, g in enumerate(groups) if k not in (i, j)] + [merged]
    return sorted(groups, key=lambda g: g[0])


def _allocate(groups: list[list[str]], potential: dict[str, float], n: int, county_count: dict[str, int]) -> list[int]:
    """Largest-remainder rounding of the shares, at least 1 and at most the group's county count each."""
    if len(groups) > n:
        raise ValueError(f"{n} territories for {len(groups)} state groups")
    share = _shares(groups, potential, n)
    cap = np.array([sum(county_count[s] for s in g) for g in groups])
    if cap.sum() < n:
        raise ValueError(f"{n} territories for {cap.sum()} counties")
    counts = np.clip(np.floor(share).astype(np.int64), 1, cap)
    remainder = share - np.floor(share)
    while counts.sum() != n:
        if counts.sum() < n:
            open_ = np.flatnonzero(counts < cap)
            counts[open_[np.argmax(remainder[open_])]] += 1
            remainder[open_[np.argmax(remainder[open_])]] -= 1
        else:
            shrinkable = np.flatnonzero(counts > 1)
            counts[shrinkable[np.argmin(remainder[shrinkable])]] -= 1
            remainder[shrinkable[np.argmin(remainder[shrinkable])]] += 1
    return counts.tolist()


def _group_name(group: list[str], counties: Counties) -> str:
    names = [str(counties.state_name[np.flatnonzero(counties.state_abbr == s)[0]]) for s in group]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " & " + names[-1]
