"""API keys for CRM integrations: created by an admin and shown once, kept only as a hash, scoped to a tenant and a
role, valid on the service that issued them, revoked at once."""

from __future__ import annotations

import hashlib
import uuid

from fastapi.testclient import TestClient

from tests.access.conftest import ok
from tests.support.auth import auth_headers
from tests.support.databases import fetch_all


def test_a_crm_key_upserts_accounts_and_reads_assignments_until_it_is_revoked(client: TestClient, databases):
    tenant = f"crm-{uuid.uuid4().hex[:8]}"
    admin = auth_headers(tenant)
    created = ok(client.post("/assignment/v1/api-keys", json={"name": "Salesforce"}, headers=admin), 201)
    key = created["key"]
    assert created["role"] == "integration" and key.startswith(created["prefix"]) and len(key) > 40
    bearer, header = {"Authorization": f"Bearer {key}"}, {"X-API-Key": key}
    rows = [{"external_id": "C-1", "name": "Acme", "lon": -78.6, "lat": 35.8}]
    assert ok(client.post("/assignment/v1/accounts/bulk", json=rows, headers=bearer))["applied"] == 1
    assert ok(client.get("/assignment/v1/accounts/C-1", headers=header))["name"] == "Acme"
    # Its role bounds it: an integration designs nothing and manages no keys.
    assert client.put("/assignment/v1/sales-forces/f/rule-set", json={"rules": []}, headers=bearer).status_code == 403
    assert client.get("/assignment/v1/api-keys", headers=bearer).status_code == 403
    # Its tenant bounds it: the account is the key's tenant's.
    assert client.get("/assignment/v1/accounts/C-1", headers=auth_headers("x-" + tenant)).status_code == 404
    # Valid where issued: geo-service keeps its own keys.
    assert client.get("/geo/v1/locate?lon=-78.6&lat=35.8", headers=bearer).status_code == 401

    listed = ok(client.get("/assignment/v1/api-keys", headers=admin))
    assert [k["id"] for k in listed] == [created["id"]] and "key" not in listed[0]
    stored = fetch_all(databases["assignment"], "SELECT * FROM api_keys WHERE id = :i", i=created["id"])[0]
    assert stored["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert key not in repr(stored)

    assert (
        client.delete(f"/assignment/v1/api-keys/{created['id']}", headers=auth_headers("x-" + tenant)).status_code
        == 404
    )
    assert client.delete(f"/assignment/v1/api-keys/{created['id']}", headers=admin).status_code == 204
    refused = client.get("/assignment/v1/accounts/C-1", headers=bearer)
    assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"
    assert ok(client.get("/assignment/v1/api-keys", headers=admin))[0]["revoked_at"]


def test_only_an_admin_creates_keys_and_no_key_is_made_for_a_rep(client: TestClient):
    tenant = f"crm-{uuid.uuid4().hex[:8]}"
    for role in ("planner", "manager", "integration"):
        r = client.post("/assignment/v1/api-keys", json={"name": "x"}, headers=auth_headers(tenant, role))
        assert r.status_code == 403, role
    r = client.post("/assignment/v1/api-keys", json={"name": "x", "role": "rep"}, headers=auth_headers(tenant))
    assert r.status_code == 422
    manager_key = ok(
        client.post("/metrics/v1/api-keys", json={"name": "BI", "role": "manager"}, headers=auth_headers(tenant)), 201
    )["key"]
    assert ok(client.get("/metrics/v1/alignments", headers={"X-API-Key": manager_key})) == []
