"""Raw events and database readings shared by the end-to-end tests."""

from __future__ import annotations

import json
import uuid

from territory_shared.events.contracts import EventData
from territory_shared.events.envelope import CloudEvent, new_event
from territory_shared.events.geo import TerritoryCreatedV1, TerritoryRenamedV1

from tests.support.databases import fetch_all

TOPIC = "geo.territory"


def event(tenant: str, territory_id: str, data: EventData, event_type: str) -> CloudEvent:
    return new_event(source="/e2e", type=event_type, subject=territory_id, tenant_id=tenant, data=data)


def territory_history(tenant: str, territories: int, versions: int) -> list[tuple[str, bytes]]:
    """``versions`` events per territory (created, then renames), interleaved across territories."""
    ids = [str(uuid.uuid4()) for _ in range(territories)]
    out: list[tuple[str, bytes]] = []
    for v in range(1, versions + 1):
        for i, tid in enumerate(ids):
            if v == 1:
                e = event(
                    tenant,
                    tid,
                    TerritoryCreatedV1(territory_id=tid, code=f"C{i}", name="n", version=1),
                    "geo.territory.created.v1",
                )
            else:
                e = event(
                    tenant,
                    tid,
                    TerritoryRenamedV1(territory_id=tid, code=f"C{i}", name=f"n{v}", version=v),
                    "geo.territory.renamed.v1",
                )
            out.append((tid, e.to_bytes()))
    return out


def projection(metrics_db: str, tenant: str) -> dict[str, dict[str, object]]:
    rows = fetch_all(
        metrics_db,
        "SELECT territory_id, version, deleted, events_applied, name FROM territory_projection WHERE tenant_id = :t",
        t=tenant,
    )
    return {str(r["territory_id"]): r for r in rows}


def inbox(metrics_db: str, subjects: set[str]) -> list[dict[str, object]]:
    rows = fetch_all(
        metrics_db,
        "SELECT seq, event_id, subject, outcome FROM inbox WHERE consumer = 'metrics-service' ORDER BY seq",
    )
    return [r for r in rows if r["subject"] in subjects]


def versions_by_event_id(geo_db: str, subjects: set[str]) -> dict[str, tuple[str, int]]:
    rows = fetch_all(geo_db, "SELECT event_id, key, payload FROM outbox")
    return {
        str(r["event_id"]): (str(r["key"]), int(json.loads(bytes(r["payload"]))["data"]["version"]))
        for r in rows
        if r["key"] in subjects
    }
