from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from territory_shared.settings import ServiceSettings


class GeoSettings(ServiceSettings):
    """geo-service settings; every field reads ``GEO_<FIELD>`` from the environment."""

    model_config = SettingsConfigDict(env_prefix="GEO_", extra="ignore")

    service_name: str = "geo-service"
    database_url: str = "sqlite+aiosqlite:///./data/geo.sqlite"
    max_vertices: int = Field(
        default=100_000, ge=4, description="Most vertices one unit's geometry may have (an import may ask for fewer)"
    )
    max_features: int = Field(default=1_000_000, ge=1, description="Most features (units) one layer import may hold")
    schedule_poll_s: float = Field(
        default=1.0, gt=0, le=60, description="How often the schedule worker looks for drafts due to be published"
    )
    schedule_max_attempts: int = Field(
        default=5, ge=1, description="Tries of a due scheduled publish that fails for a passing reason before it fails"
    )
