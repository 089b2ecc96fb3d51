"""Tenant B, even as its own admin, never reads, lists, edits or deletes tenant A's data, on any endpoint of the
three services: an id of A's answers 404 (or 403), no answer carries A's data, and A's data is unchanged after."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from tests.access.conftest import Tenant, ok
from tests.access.routes import GENERATED, UPLOADS, operations
from tests.support.processes import eventually

# What tenant A can see of its own data, read before and after B's requests.
SNAPSHOT = [
    "/geo/v1/layers",
    "/geo/v1/alignments",
    "/geo/v1/territories?limit=1000",
    "/geo/v1/alignments/{alignment_id}/units",
    "/geo/v1/api-keys",
    "/assignment/v1/accounts",
    "/assignment/v1/reps",
    "/assignment/v1/roster-entries",
    "/assignment/v1/sales-forces/field/assignments",
    "/assignment/v1/sales-forces/field/rule-set",
    "/assignment/v1/accounts/ACC-A2/assignments",
    "/assignment/v1/webhooks",
    "/assignment/v1/realignments",
    "/assignment/v1/api-keys",
    "/metrics/v1/alignments",
    "/metrics/v1/alignments/{alignment_id}/metrics",
    "/metrics/v1/api-keys",
]


def snapshot(client: TestClient, a: Tenant) -> dict[str, Any]:
    return {path: ok(client.get(path.format(**a.ids), headers=a.headers())) for path in SNAPSHOT}


def leaks(text: str, a: Tenant, asked: str) -> list[str]:
    """Tenant A's names and generated ids in an answer, other than those the request itself named."""
    generated = [v for k, v in a.ids.items() if k.split(":")[-1] in GENERATED]
    return [s for s in [a.marker, *generated] if s in text and s not in asked]


def test_no_endpoint_gives_tenant_b_anything_of_tenant_a(client: TestClient, tenant_a: Tenant):
    before = snapshot(client, tenant_a)
    b = Tenant("b-" + tenant_a.name)
    failures = []
    for op in operations(client.app.state.services):
        call = op.request(tenant_a.ids)
        if (op.method, op.path) in UPLOADS:
            call["files"] = {"file": ("b.geojson", b'{"type": "FeatureCollection", "features": []}')}
            call["data"] = {"name": "b", "id_column": "id"}
        call["headers"] = {**call["headers"], **b.headers()}
        r = client.request(**call)
        found = leaks(r.text, tenant_a, asked=repr(call))
        if found:
            failures.append(f"{op.id}: {r.status_code} carries tenant A's {found}: {r.text[:300]}")
        if r.status_code >= 500:
            failures.append(f"{op.id}: {r.status_code} {r.text[:300]}")
        if op.names_a_generated_id_in_its_path() and r.status_code not in (403, 404):
            failures.append(f"{op.id}: naming tenant A's resource answered {r.status_code}, not 404: {r.text[:300]}")
        if r.status_code >= 400:
            assert r.headers["content-type"] == "application/problem+json", op.id
    assert not failures, "\n".join(failures)
    after = snapshot(client, tenant_a)
    changed = [p for p in SNAPSHOT if json.dumps(before[p], sort_keys=True) != json.dumps(after[p], sort_keys=True)]
    assert not changed, f"tenant B's requests changed tenant A's {changed}"


def test_the_other_tenant_sees_only_its_own_things_in_lists(client: TestClient, tenant_a: Tenant):
    b = Tenant("c-" + tenant_a.name)
    h = b.headers()
    assert ok(client.get("/geo/v1/layers", headers=h)) == []
    assert ok(client.get("/geo/v1/alignments", headers=h)) == []
    assert ok(client.get("/assignment/v1/accounts", headers=h))["items"] == []
    assert ok(client.get("/assignment/v1/reps", headers=h)) == []
    assert ok(client.get("/metrics/v1/alignments", headers=h)) == []
    for prefix in ("geo", "assignment", "metrics"):
        assert ok(client.get(f"/{prefix}/v1/api-keys", headers=h)) == []


def test_a_realignment_notice_reaches_only_the_webhooks_of_its_tenant(client: TestClient, tenant_a: Tenant):
    other = Tenant("d-" + tenant_a.name)
    theirs = ok(
        client.post("/assignment/v1/webhooks", json={"url": "http://127.0.0.1:9/x"}, headers=other.headers()), 201
    )
    h = tenant_a.headers()
    draft = tenant_a.ids["b"]
    version = ok(client.get(f"/geo/v1/alignments/{draft}", headers=h))["version"]
    ok(client.post(f"/geo/v1/alignments/{draft}/publish", headers={**h, "If-Match": f'"{version}"'}))
    mine = f"/assignment/v1/webhooks/{tenant_a.ids['webhook_id']}/deliveries"
    eventually(lambda: ok(client.get(mine, headers=h)), message="tenant A's notices queued")
    assert ok(client.get(f"/assignment/v1/webhooks/{theirs['id']}/deliveries", headers=other.headers())) == []
