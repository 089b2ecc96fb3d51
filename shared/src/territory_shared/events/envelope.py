"""CloudEvents 1.0 envelope, structured JSON mode, with the ``tenantid`` extension.

Kafka messages carry the whole envelope as the value (``application/cloudevents+json``) and the
aggregate id (the envelope's ``subject``) as the key, so one aggregate's events stay in one
partition and in order.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from territory_shared.actor import current_actor

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
    actor: str | None = Field(default=None, description="Who made the change (extension attribute)")
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
    actor: str | None = None,
) -> CloudEvent:
    return CloudEvent(
        id=str(uuid.uuid4()),
        source=source,
        type=type,
        subject=subject,
        time=datetime.now(UTC),
        tenantid=tenant_id,
        correlationid=correlation_id,
        actor=actor or current_actor(),
        data=data.model_dump(mode="json"),
    )


def encode_event(
    *,
    event_id: str,
    source: str,
    type: str,
    subject: str,
    time: datetime,
    tenant_id: str,
    data: dict[str, Any],
    correlation_id: str | None = None,
    actor: str | None = None,
) -> bytes:
    """The bytes ``new_event(...).to_bytes()`` gives, for events written by the hundred thousand.

    A realignment or a bulk upsert announces every account it touches: building and validating two pydantic
    models per event cost ~0.2 ms, longer than writing the event. ``data`` must already hold JSON values that
    satisfy its contract (the caller builds it from typed, validated fields).
    """
    envelope: dict[str, Any] = {
        "specversion": "1.0",
        "id": event_id,
        "source": source,
        "type": type,
        "subject": subject,
        "time": time.isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "tenantid": tenant_id,
    }
    if correlation_id is not None:
        envelope["correlationid"] = correlation_id
    envelope["actor"] = actor or current_actor()
    envelope["data"] = data
    return _COMPACT.encode(envelope).encode()


# One encoder for every event: json.dumps with separators builds a new one per call.
_COMPACT = json.JSONEncoder(separators=(",", ":"))
