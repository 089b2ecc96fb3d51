"""Events metrics-service emits."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from territory_shared.events.base import EventContract, EventData


class TerritoryOutOfBalanceV1(EventData):
    """A territory of an active alignment drifted beyond the balance tolerance on a metric.

    Told once when it leaves the band (at publish, or when accounts or rosters change); told again only
    after it came back within tolerance and left it once more.
    """

    alignment_id: str
    sales_force: str
    territory_id: str
    territory_code: str
    metric: str = Field(examples=["account_potential"])
    value: float
    target: float = Field(description="The mean over the alignment's leaf territories")
    deviation_pct: float = Field(description="(value - target) / target x 100")
    tolerance_pct: float


class QuotaPlanChangedV1(EventData):
    """A sales force's quota plan for a period was set (created or replaced): the goal and how it is split.

    Key ``<sales force>/<period>``. The quotas themselves follow from the plan and the alignments in effect
    during the period (``GET /metrics/v1/sales-forces/{sf}/quota-plans/{period}/quotas``).
    """

    sales_force: str
    period: str = Field(examples=["2027"])
    goal: float = Field(gt=0)
    starts_on: date
    ends_on: date = Field(description="Inclusive")
    method: Literal["potential", "revenue", "blend"]
    potential_weight: float = Field(ge=0, le=1, description="1 for potential, 0 for revenue, w for a blend")
    adjustments: dict[str, float] = Field(description="Leaf territory code -> amount added; they sum to 0")
    alignment_id: str | None = Field(description="The alignment whose leaf territories the adjustments name")
    version: int = Field(ge=1)
    updated_by: str


METRICS_CONTRACTS = [
    EventContract(
        "metrics.territory.out_of_balance_detected.v1", "metrics.territory", TerritoryOutOfBalanceV1, "metrics-service"
    ),
    EventContract("metrics.quota_plan.changed.v1", "metrics.quota_plan", QuotaPlanChangedV1, "metrics-service"),
]
