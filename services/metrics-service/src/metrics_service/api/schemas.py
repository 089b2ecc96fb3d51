"""Response shapes of the metrics API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class TerritoryMetricsRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "territory_id": "9b2f…",
                    "code": "EAST",
                    "name": "East",
                    "parent_id": "1c0e…",
                    "depth": 1,
                    "leaf": True,
                    "unit_count": 12,
                    "values": {"population": 2_350_000, "account_potential": 41_200_000, "workload_hours": 1520},
                    "area_km2": 14_210.5,
                    "polsby_popper": 0.41,
                    "parts": 1,
                    "reps": 2,
                    "capacity_hours": 3200,
                    "utilization": 0.475,
                    "travel_mean_km": 38.2,
                    "travel_max_km": 121.7,
                    "deviation_pct": 4.2,
                    "within_tolerance": True,
                }
            ]
        }
    )

    territory_id: str
    code: str
    name: str
    parent_id: str | None
    depth: int = Field(description="0 for a top-level territory")
    leaf: bool
    unit_count: int
    values: dict[str, float] = Field(description="Sums of unit attributes and of the accounts in the territory")
    area_km2: float = Field(description="Area in an equal-area projection")
    polsby_popper: float = Field(description="4 pi area / perimeter^2 of the dissolved territory (1 = a disc)")
    parts: int = Field(description="Polygons of the dissolved territory: 1 = contiguous")
    reps: int
    primary_rep_id: str | None = Field(default=None, description="The rep holding the territory as primary today")
    capacity_hours: float | None
    utilization: float | None = Field(description="workload_hours / capacity_hours of the roster")
    travel_mean_km: float | None = Field(description="Potential-weighted mean distance from the nearest rep home")
    travel_max_km: float | None
    deviation_pct: float | None = Field(default=None, description="Against the target, when a metric is asked")
    within_tolerance: bool | None = None


class BalanceRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "metric": "population",
                    "tolerance": 0.05,
                    "target": 1_250_000,
                    "max_deviation_pct": 12.5,
                    "cv": 0.071,
                    "gini": 0.038,
                    "out_of_balance": 2,
                    "territories": [
                        {
                            "territory_id": "…",
                            "code": "EAST",
                            "value": 1_406_000,
                            "deviation_pct": 12.5,
                            "within_tolerance": False,
                        }
                    ],
                }
            ]
        }
    )

    metric: str
    tolerance: float
    target: float
    max_deviation_pct: float
    cv: float = Field(description="Coefficient of variation (population standard deviation / mean)")
    gini: float
    out_of_balance: int
    territories: list[dict[str, Any]]


class AlignmentMetricsRead(BaseModel):
    alignment_id: str
    name: str
    state: str
    layer_id: str
    sales_force: str
    revision: int
    metrics: list[str] = Field(description="Metric names this alignment has")
    totals: dict[str, float] = Field(description="Sums over every assigned unit")
    white_space: dict[str, Any]
    balance: BalanceRead | None = Field(description="Of the asked metric over the leaves (or ?level=)")
    territories: list[TerritoryMetricsRead]


class AlignmentRead(BaseModel):
    alignment_id: str
    name: str
    state: str
    layer_id: str
    sales_force: str
    version: int
    revision: int


class UnitsMove(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit_ids: list[str] = Field(min_length=1, max_length=100_000)
    territory_id: str | None = Field(description="The territory they would move to; null: white space")


class WhatIf(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "moves": [{"unit_ids": ["37183", "37063"], "territory_id": "<territory id>"}],
                    "metric": "population",
                    "tolerance": 0.05,
                }
            ]
        },
    )

    moves: list[UnitsMove] = Field(min_length=1, max_length=1_000)
    metric: str | None = Field(default=None, description="Balance this metric before and after")
    tolerance: float = Field(default=0.05, ge=0, le=10)
    target: float | None = Field(default=None, allow_inf_nan=False, description="Target value; the mean when omitted")
    all_territories: bool = Field(default=False, description="Return every territory, not only those touched")


class WhatIfRead(BaseModel):
    alignment_id: str
    revision: int = Field(description="The alignment revision the what-if started from")
    touched: list[str]
    before: list[TerritoryMetricsRead]
    after: list[TerritoryMetricsRead]
    balance_before: BalanceRead | None
    balance_after: BalanceRead | None
    elapsed_ms: float


class SnapshotPoint(BaseModel):
    snapshot_id: str
    alignment_id: str
    reason: str = Field(description="publish or daily")
    taken_at: str
    totals: dict[str, float]
    balance: BalanceRead | None
    territories: list[dict[str, Any]] | None = None


class TrendRead(BaseModel):
    metric: str | None
    points: list[SnapshotPoint]
