from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from territory_shared.settings import ServiceSettings


class AssignmentSettings(ServiceSettings):
    """assignment-service settings; every field reads ``ASSIGNMENT_<FIELD>`` from the environment."""

    model_config = SettingsConfigDict(env_prefix="ASSIGNMENT_", extra="ignore")

    service_name: str = "assignment-service"
    database_url: str = "sqlite+aiosqlite:///./data/assignment.sqlite"
    geo_url: str = Field(default="http://127.0.0.1:8001", description="geo-service's base URL (distributed mode)")
    geo_timeout_s: float = Field(default=300, gt=0)
    webhook_backoff_s: float = Field(default=1.0, gt=0, description="First retry delay; doubles up to the maximum")
    webhook_max_backoff_s: float = Field(default=300.0, gt=0)
    roster_dates_interval_s: float = Field(
        default=60, gt=0, description="How often roster entries whose first day or end has come are applied"
    )
