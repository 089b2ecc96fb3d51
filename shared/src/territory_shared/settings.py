"""Settings pieces every service composes; each service subclasses with its own env prefix.

Nothing here is read at import: a service builds its settings object in ``main`` or a test
fixture and hands it to ``create_app(settings)``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class AuthSettings(BaseSettings):
    """How callers prove who they are: one trust domain for every service, so the variables are unprefixed
    (``AUTH_JWT_SECRET``, ``AUTH_JWKS_URL``, ...), and a token one service accepts every service accepts.

    ``jwt_secret`` verifies HS256 tokens and signs the short-lived tokens a service sends another; set it even
    where people sign in with RS256 (``jwks_url`` / ``jwks_file``), since services call each other with it.
    """

    model_config = SettingsConfigDict(env_prefix="AUTH_", extra="ignore")

    jwt_secret: SecretStr | None = Field(
        default=None, description="Shared HS256 secret (32+ bytes): verifies tokens and signs service-to-service ones"
    )
    jwks_url: str | None = Field(default=None, description="URL of the identity provider's JWKS (RS256), cached")
    jwks_file: str | None = Field(default=None, description="A JWKS file (RS256 public keys), instead of a URL")
    issuer: str | None = Field(default=None, description="Required `iss` of every token, when set")
    audience: str | None = Field(default=None, description="Required `aud` of every token, when set")
    jwks_cache_s: int = Field(default=300, ge=0, description="How long keys fetched from `AUTH_JWKS_URL` are kept")
    leeway_s: int = Field(default=30, ge=0, description="Clock skew allowed on `exp` and `nbf`")
    service_token_ttl_s: int = Field(
        default=300, ge=30, description="Lifetime of the tokens services call each other with"
    )

    @property
    def configured(self) -> bool:
        return bool(self.jwt_secret or self.jwks_url or self.jwks_file)


class ServiceSettings(BaseSettings):
    """What a service needs to run: its database, the event bus, and how it logs.

    ``bus_kind=kafka`` is the distributed mode; ``inprocess`` is the embedded mode, where
    ``inprocess_bus_path`` names the SQLite file that holds the embedded event log.
    """

    model_config = SettingsConfigDict(extra="ignore")

    service_name: str = "service"
    database_url: str = Field(
        default="sqlite+aiosqlite:///./data/service.sqlite",
        description="SQLAlchemy async URL: postgresql+asyncpg://... or sqlite+aiosqlite:///path",
    )
    bus_kind: Literal["kafka", "inprocess"] = "inprocess"
    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    kafka_topic_partitions: int = 3
    kafka_topic_prefix: str = Field(
        default="", description="Prepended to every topic name, to share one cluster between environments"
    )
    inprocess_bus_path: str = "./data/bus.sqlite"
    consumer_max_attempts: int = Field(default=5, ge=1, description="Handler tries before dead-lettering")
    consumer_retry_backoff_s: float = Field(default=0.05, ge=0)
    # A realignment or a bulk upsert stages an event per account: large batches keep the broker and the outbox
    # busy with few round trips (each batch is one SELECT, one produce flush and one UPDATE).
    relay_batch_size: int = Field(default=5_000, ge=1)
    relay_idle_wait_s: float = Field(default=0.05, gt=0)
    run_migrations_on_start: bool = True
    metrics_port: int | None = Field(
        default=None, ge=1, le=65535, description="Port of the Prometheus endpoint of a relay or consumer process"
    )
    max_body_bytes: int = Field(
        default=4 << 20, ge=1024, description="Largest request body of a JSON endpoint, in bytes (else 413)"
    )
    max_upload_bytes: int = Field(
        default=256 << 20,
        ge=1024,
        description="Largest request body of an upload or bulk endpoint (layer files, account bulk upserts), in bytes",
    )
    statement_timeout_s: float = Field(
        default=30.0, ge=0, description="PostgreSQL statement_timeout of API requests (else 503); 0: none"
    )
    job_statement_timeout_s: float = Field(
        default=900.0, ge=0, description="PostgreSQL statement_timeout of jobs, relays and consumers; 0: none"
    )
    log_level: str = "INFO"
    log_json: bool = True
    # Read from the unprefixed AUTH_* variables when the settings object is built (see AuthSettings).
    auth: AuthSettings = Field(default_factory=AuthSettings)

    @property
    def dead_letter_topic(self) -> str:
        return f"{self.service_name}.dead-letter"
