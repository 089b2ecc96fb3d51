"""Who made each change, across the services: a planner's publish in geo-service is theirs in assignment-service's
realignment too (the event carries its actor), a CRM's bulk upsert is its API key's, and each service's audit log
says so. Separate processes on PostGIS and Apache Kafka."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.assignment_platform import (
    DURHAM,
    MECKLENBURG,
    RALEIGH,
    WAKE,
    DistributedAssignmentPlatform,
    draft,
    import_nc,
    publish,
)
from tests.support.auth import auth_headers
from tests.support.processes import eventually


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DistributedAssignmentPlatform]:
    p = DistributedAssignmentPlatform(tmp_path_factory.mktemp("who-did-it"))
    try:
        p.start()
        yield p
    finally:
        p.close()


def audit(client: httpx.Client, **params: str) -> list[dict]:
    r = client.get("/v1/audit", params=params)
    assert r.status_code == 200, r.text
    return r.json()["entries"]


@pytest.mark.timeout(600)
def test_changes_are_recorded_with_who_made_them_across_the_services(platform: DistributedAssignmentPlatform, tmp_path):
    tenant = f"who-{uuid.uuid4().hex[:10]}"
    alice = auth_headers(tenant, "planner", sub="alice@example.com")
    admin = auth_headers(tenant, "admin", sub="root@example.com")
    with (
        httpx.Client(base_url=platform.geo_url, headers=alice, timeout=60) as geo,
        httpx.Client(base_url=platform.assignment_url, headers=admin, timeout=60) as assignment_admin,
    ):
        key = assignment_admin.post("/v1/api-keys", json={"name": "Salesforce sync", "role": "integration"})
        assert key.status_code == 201, key.text
        crm = httpx.Client(base_url=platform.assignment_url, headers={"X-API-Key": key.json()["key"]}, timeout=60)
        rows = [
            {"external_id": "raleigh", "lat": RALEIGH[1], "lon": RALEIGH[0], "potential": 100},
            {"external_id": "far", "lat": 34.0, "lon": -70.0},
        ]
        r = crm.post(
            "/v1/accounts/bulk",
            content="\n".join(json.dumps(x) for x in rows).encode(),
            headers={"content-type": "application/x-ndjson"},
        )
        assert r.status_code == 200, r.text

        layer = import_nc(geo, tmp_path)
        alignment_id = draft(geo, layer, {"EAST": [WAKE, DURHAM], "WEST": [MECKLENBURG]})
        with httpx.Client(base_url=platform.assignment_url, headers=alice, timeout=60) as assignment:
            publish(geo, assignment, alignment_id)

        # geo-service: the planner created the territories and published.
        published = audit(geo, action="geo.alignment.published.v1", subject=alignment_id)
        assert [(e["actor"], e["count"]) for e in published] == [("alice@example.com", 1)]
        created = audit(geo, action="geo.territory.created.v1")
        assert {e["actor"] for e in created} == {"alice@example.com"} and len(created) == 2
        assert audit(geo, actor="nobody") == []

        # assignment-service: the upsert is the API key's; the realignment the publish caused is the planner's.
        upserts = audit(assignment_admin, action="assignment.account.upserted.v1")
        assert [(e["actor"], e["count"], e["subject"]) for e in upserts] == [("api-key:Salesforce sync", 2, None)]

        def reassigned() -> list[dict]:
            return audit(assignment_admin, action="assignment.account.reassigned.v1")

        # Both accounts are told again: raleigh now EAST's, the far one located outside every unit; all of it
        # the publisher's doing.
        eventually(
            lambda: sum(e["count"] for e in reassigned()) == 2,
            deadline_s=60,
            message="the realignment's reassignments recorded",
        )
        assert {e["actor"] for e in reassigned()} == {"alice@example.com"}

        # Paging: one entry a page, newest first, each entry once.
        seen, cursor = [], None
        while True:
            page = geo.get("/v1/audit", params={"limit": 1, **({"cursor": cursor} if cursor else {})}).json()
            seen += [e["id"] for e in page["entries"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == len(set(seen)) == len(audit(geo, limit="1000"))
        bad = geo.get("/v1/audit", params={"cursor": "yesterday"})
        assert bad.status_code == 422 and "cursor" in bad.text
        crm.close()
