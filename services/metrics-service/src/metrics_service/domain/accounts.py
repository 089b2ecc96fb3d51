"""Accounts aggregated by owner: per unit for those whose territory follows their unit, per territory code for
the accounts a rule or an override pins to a territory whatever the map says."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from metrics_service.domain.layer import ACCOUNT_METRICS, LayerData

# Account field -> the per-unit metric it sums into.
ACCOUNT_FIELDS = {
    "potential": "account_potential",
    "revenue": "account_revenue",
    "workload_hours": "workload_hours",
    "visits_per_year": "visits",
}
# An account with this unit index is located from its coordinates.
LOCATE = -1


@dataclass
class OwnedSums:
    names: list[str]  # the account metrics, in column order
    units: np.ndarray  # (units, names): accounts whose territory follows their unit
    pinned: dict[str, np.ndarray]  # territory code -> (names,): accounts held by a territory whatever the map says
    unplaced: np.ndarray  # (names,): accounts no territory holds (pinned to none, no location, outside every unit)


def owned_sums(
    layer: LayerData,
    lon: np.ndarray,
    lat: np.ndarray,
    fields: Mapping[str, np.ndarray],
    unit_index: np.ndarray | None = None,
    pinned: Sequence[str | None] | None = None,
    by_geography: np.ndarray | None = None,
) -> OwnedSums:
    """Sum the accounts by owner.

    ``fields`` maps an account field (``potential``, ``revenue``, ``workload_hours``, ``visits_per_year``, or a
    custom numeric field, summed as ``account.<field>``) to one value per account. ``unit_index``: the unit that
    holds each account as its owner's service located it (``LOCATE``: locate it here). ``by_geography`` False:
    the account stays with ``pinned``'s territory code (None: with no territory). Omitted, every account follows
    the unit that holds its location.
    """
    n = len(lon)
    names = list(ACCOUNT_METRICS) + sorted(f"account.{f}" for f in fields if f not in ACCOUNT_FIELDS)
    col = {m: j for j, m in enumerate(names)}
    rows = np.zeros((n, len(names)))
    rows[:, col["account_count"]] = 1.0
    for field, values in fields.items():
        rows[:, col[ACCOUNT_FIELDS.get(field, f"account.{field}")]] = np.nan_to_num(np.asarray(values, dtype=float))
    follows = np.ones(n, dtype=bool) if by_geography is None else np.asarray(by_geography, dtype=bool)
    unit = np.full(n, LOCATE, dtype=np.int64) if unit_index is None else np.asarray(unit_index, dtype=np.int64)
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    todo = np.flatnonzero(follows & (unit == LOCATE) & np.isfinite(lon) & np.isfinite(lat))
    if len(todo):
        unit[todo] = layer.locate(lon[todo], lat[todo])
    inside = follows & (unit >= 0)
    sums = np.zeros((len(layer), len(names)))
    np.add.at(sums, unit[inside], rows[inside])
    unplaced = rows[follows & ~inside].sum(axis=0)
    by_code: dict[str, np.ndarray] = {}
    for i in np.flatnonzero(~follows).tolist():
        code = pinned[i] if pinned is not None else None
        if code is None:
            unplaced = unplaced + rows[i]
        else:
            by_code[code] = by_code.get(code, 0.0) + rows[i]
    return OwnedSums(names, sums, by_code, unplaced)


def account_sums(
    layer: LayerData, lon: np.ndarray, lat: np.ndarray, fields: Mapping[str, np.ndarray]
) -> tuple[list[str], np.ndarray, int]:
    """Per-unit sums of accounts that all follow the unit holding them: (names, (units, names), accounts outside)."""
    owned = owned_sums(layer, lon, lat, fields)
    return owned.names, owned.units, int(owned.unplaced[0])
