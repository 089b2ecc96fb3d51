from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from territory_shared.settings import ServiceSettings


class MetricsSettings(ServiceSettings):
    """metrics-service settings; every field reads ``METRICS_<FIELD>`` from the environment."""

    model_config = SettingsConfigDict(env_prefix="METRICS_", extra="ignore")

    service_name: str = "metrics-service"
    database_url: str = "sqlite+aiosqlite:///./data/metrics.sqlite"
    geo_url: str = Field(default="http://127.0.0.1:8001", description="geo-service's base URL (units, memberships)")
    assignment_url: str = Field(default="http://127.0.0.1:8002", description="assignment-service's base URL")
    http_timeout_s: float = Field(default=60.0, gt=0)
    balance_metrics: list[str] = Field(
        default=["account_potential", "workload_hours", "account_count", "potential", "population"],
        description="Metrics watched on active alignments; those an alignment lacks are skipped",
    )
    balance_tolerance: float = Field(default=0.10, ge=0, description="Drift beyond it emits out_of_balance")
    hours_per_visit: float = Field(default=1.0, gt=0, description="Workload of an account given only its visits")
    monitor_interval_s: float = Field(
        default=60.0, gt=0, description="How often the API checks drift and daily snapshots"
    )
