"""Where a map of a layer opens: the main cluster of its units, not its full extent."""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

CELL_DEGREES = 5.0
PAD_DEGREES = 0.25


def main_cluster_frame(lon: np.ndarray, lat: np.ndarray) -> list[float] | None:
    """west, south, east, north of the units' inner points binned in 5-degree cells, over the connected group of
    cells (touching at a side or a corner) holding the most units; None for no unit.

    Remote parts (Alaska, Hawaii, the Aleutians across the antimeridian) would otherwise shrink the mainland to a
    speck; they stay on the map, a pan away.
    """
    if len(lon) == 0:
        return None
    cells, cell_of = np.unique(
        np.column_stack([np.floor(lon / CELL_DEGREES), np.floor(lat / CELL_DEGREES)]).astype(np.int64),
        axis=0,
        return_inverse=True,
    )
    cell_of = cell_of.ravel()
    # Cells within one step of each other in x and y are neighbours (a few hundred cells at most: all pairs).
    near = np.abs(cells[:, None, :] - cells[None, :, :]).max(axis=2) <= 1
    a, b = np.nonzero(near)
    _, group_of_cell = connected_components(coo_matrix((np.ones(len(a)), (a, b)), shape=(len(cells),) * 2))
    group_of_unit = group_of_cell[cell_of]
    main = np.bincount(group_of_unit).argmax()
    inside = group_of_unit == main
    return [
        float(lon[inside].min() - PAD_DEGREES),
        float(lat[inside].min() - PAD_DEGREES),
        float(lon[inside].max() + PAD_DEGREES),
        float(lat[inside].max() + PAD_DEGREES),
    ]
