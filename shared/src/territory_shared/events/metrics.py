"""Events metrics-service emits."""

from __future__ import annotations

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


METRICS_CONTRACTS = [
    EventContract(
        "metrics.territory.out_of_balance_detected.v1", "metrics.territory", TerritoryOutOfBalanceV1, "metrics-service"
    ),
]
