from __future__ import annotations

from pydantic_settings import SettingsConfigDict
from territory_shared.settings import ServiceSettings


class AssignmentSettings(ServiceSettings):
    """assignment-service settings; every field reads ``ASSIGNMENT_<FIELD>`` from the environment."""

    model_config = SettingsConfigDict(env_prefix="ASSIGNMENT_", extra="ignore")

    service_name: str = "assignment-service"
    database_url: str = "sqlite+aiosqlite:///./data/assignment.sqlite"
