"""CloudEvents 1.0 envelope, structured JSON mode, with the ``tenantid`` extension.

Kafka messages carry the whole envelope as the value (``application/cloudevents+json``) and the
aggregate id (the envelope's ``subject``) as the key, so one aggregate's events stay in one
partition and in order.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

CONTENT_TYPE = "application/cloudevents+json"


class CloudEvent(BaseModel):
    """One event as it travels on the bus. ``data`` is validated against its contract by consumers."""

    model_config = ConfigDict(extra="allow")

    specversion: str = Field(default="1.0", pattern=r"^1\.0$")
    id: str = Field(min_length=1)
    source: str = Field(min_length=1)
    type: str = Field(min_length=1, examples=["geo.territory.created.v1"])
    subject: str = Field(min_length=1, description="The aggregate id; also the Kafka message key")
    time: datetime
    datacontenttype: str = "application/json"
    tenantid: str = Field(min_length=1)
    correlationid: str | None = None
    data: dict[str, Any]

    def to_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> CloudEvent:
        return cls.model_validate_json(raw)


def new_event(
    *,
    source: str,
    type: str,
    subject: str,
    tenant_id: str,
    data: BaseModel,
    correlation_id: str | None = None,
) -> CloudEvent:
    return CloudEvent(
        id=str(uuid.uuid4()),
        source=source,
        type=type,
        subject=subject,
        time=datetime.now(UTC),
        tenantid=tenant_id,
        correlationid=correlation_id,
        data=data.model_dump(mode="json"),
    )
