"""Territory design: balanced, contiguous, compact territories with minimal disruption. Pure computation."""

from territory_optimizer.changes import rep_joins, rep_leaves
from territory_optimizer.figures import Figures, MetricFigures, Violation
from territory_optimizer.problem import (
    CancelToken,
    Geometry,
    Metric,
    Options,
    Problem,
    ProblemError,
    Progress,
    ProgressCallback,
    Rep,
)
from territory_optimizer.shapes import UnitShapes, unit_shapes
from territory_optimizer.solver import Plan, optimize

__all__ = [
    "CancelToken",
    "Figures",
    "Geometry",
    "Metric",
    "MetricFigures",
    "Options",
    "Plan",
    "Problem",
    "ProblemError",
    "Progress",
    "ProgressCallback",
    "Rep",
    "UnitShapes",
    "Violation",
    "optimize",
    "rep_joins",
    "rep_leaves",
    "unit_shapes",
]
