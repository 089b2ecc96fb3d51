"""Accounts aggregated per unit: each account counts in the unit that holds its location."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from metrics_service.domain.layer import ACCOUNT_METRICS, LayerData

# Account field -> the per-unit metric it sums into.
ACCOUNT_FIELDS = {
    "potential": "account_potential",
    "revenue": "account_revenue",
    "workload_hours": "workload_hours",
    "visits_per_year": "visits",
}


def account_sums(
    layer: LayerData, lon: np.ndarray, lat: np.ndarray, fields: Mapping[str, np.ndarray]
) -> tuple[list[str], np.ndarray, int]:
    """Per-unit sums of the accounts: (metric names, (units, metrics) array, accounts outside every unit).

    ``fields`` maps an account field (``potential``, ``revenue``, ``workload_hours``, ``visits_per_year``,
    or a custom numeric field) to one value per account; a custom field is summed as ``account.<field>``.
    """
    names = list(ACCOUNT_METRICS) + sorted(f"account.{f}" for f in fields if f not in ACCOUNT_FIELDS)
    unit = layer.locate(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    inside = unit >= 0
    sums = np.zeros((len(layer), len(names)))
    col = {n: j for j, n in enumerate(names)}
    np.add.at(sums[:, col["account_count"]], unit[inside], 1.0)
    for field, values in fields.items():
        name = ACCOUNT_FIELDS.get(field, f"account.{field}")
        v = np.nan_to_num(np.asarray(values, dtype=float))
        np.add.at(sums[:, col[name]], unit[inside], v[inside])
    return names, sums, int((~inside).sum())
