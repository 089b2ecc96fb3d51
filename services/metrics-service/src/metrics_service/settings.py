from __future__ import annotations

from pydantic_settings import SettingsConfigDict
from territory_shared.settings import ServiceSettings


class MetricsSettings(ServiceSettings):
    """metrics-service settings; every field reads ``METRICS_<FIELD>`` from the environment."""

    model_config = SettingsConfigDict(env_prefix="METRICS_", extra="ignore")

    service_name: str = "metrics-service"
    database_url: str = "sqlite+aiosqlite:///./data/metrics.sqlite"
