from __future__ import annotations

from pydantic_settings import SettingsConfigDict
from territory_shared.settings import ServiceSettings


class GeoSettings(ServiceSettings):
    """geo-service settings; every field reads ``GEO_<FIELD>`` from the environment."""

    model_config = SettingsConfigDict(env_prefix="GEO_", extra="ignore")

    service_name: str = "geo-service"
    database_url: str = "sqlite+aiosqlite:///./data/geo.sqlite"
