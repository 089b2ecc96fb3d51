"""Where a layer's map opens: its main cluster of units, without remote parts."""

from __future__ import annotations

import numpy as np
import pytest
from geo_service.domain.framing import PAD_DEGREES, main_cluster_frame


def test_the_frame_is_the_main_cluster_without_alaska_hawaii_or_the_aleutians():
    rng = np.random.default_rng(7)
    mainland = np.column_stack([rng.uniform(-124, -67, 500), rng.uniform(25, 49, 500)])
    alaska = np.column_stack([rng.uniform(-165, -141, 40), rng.uniform(56, 70, 40)])
    hawaii = np.column_stack([rng.uniform(-160, -155, 10), rng.uniform(19, 22, 10)])
    aleutians = np.array([[179.5, 51.8], [178.1, 51.9]])  # across the antimeridian
    points = np.vstack([mainland, alaska, hawaii, aleutians])

    frame = main_cluster_frame(points[:, 0], points[:, 1])

    assert frame == pytest.approx(
        [
            mainland[:, 0].min() - PAD_DEGREES,
            mainland[:, 1].min() - PAD_DEGREES,
            mainland[:, 0].max() + PAD_DEGREES,
            mainland[:, 1].max() + PAD_DEGREES,
        ]
    )


def test_one_unit_is_framed_around_it_and_no_unit_has_no_frame():
    assert main_cluster_frame(np.array([-78.6]), np.array([35.8])) == pytest.approx([-78.85, 35.55, -78.35, 36.05])
    assert main_cluster_frame(np.array([]), np.array([])) is None
