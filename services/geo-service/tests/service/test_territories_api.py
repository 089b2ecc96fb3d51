"""geo-service over HTTP against a migrated database: SQLite (embedded) and PostGIS (distributed)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from geo_service.api.app import create_app
from geo_service.settings import GeoSettings

from tests.support.auth import auth_headers, tenant_of
from tests.support.databases import database_url, fetch_all  # noqa: F401 - fixture

pytestmark = pytest.mark.postgis


@pytest.fixture(scope="module")
def client(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:  # noqa: F811
    bus_path = tmp_path_factory.mktemp("bus") / "bus.sqlite"
    settings = GeoSettings(database_url=database_url, bus_kind="inprocess", inprocess_bus_path=str(bus_path))
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture
def tenant() -> dict[str, str]:
    return auth_headers(f"t-{uuid.uuid4().hex[:8]}")


def outbox_rows(client: TestClient, subject: str) -> list[dict[str, object]]:
    return fetch_all(
        client.app.state.runtime.settings.database_url,
        "SELECT event_type, payload FROM outbox WHERE key = :k ORDER BY seq",
        k=subject,
    )


def test_create_territory_returns_it_with_an_etag_and_writes_one_outbox_event(client, tenant):
    r = client.post("/v1/territories", json={"code": "NE-01", "name": "Boston"}, headers=tenant)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["code"] == "NE-01" and body["name"] == "Boston" and body["version"] == 1
    assert r.headers["etag"] == '"1"'
    assert r.headers["location"].endswith(f"/v1/territories/{body['id']}")
    rows = outbox_rows(client, body["id"])
    assert [row["event_type"] for row in rows] == ["geo.territory.created.v1"]
    envelope = json.loads(rows[0]["payload"])
    assert envelope["specversion"] == "1.0"
    assert envelope["tenantid"] == tenant_of(tenant)
    assert envelope["subject"] == body["id"]
    assert envelope["data"] == {
        "territory_id": body["id"],
        "code": "NE-01",
        "name": "Boston",
        "version": 1,
        "alignment_id": None,
        "parent_id": None,
        "colour": None,
    }


def test_rename_then_delete_emit_versioned_events_in_order(client, tenant):
    tid = client.post("/v1/territories", json={"code": "A", "name": "a"}, headers=tenant).json()["id"]
    r = client.patch(f"/v1/territories/{tid}", json={"name": "Alpha"}, headers={**tenant, "If-Match": '"1"'})
    assert r.status_code == 200 and r.json()["version"] == 2 and r.headers["etag"] == '"2"'
    assert client.delete(f"/v1/territories/{tid}", headers={**tenant, "If-Match": '"2"'}).status_code == 204
    assert client.get(f"/v1/territories/{tid}", headers=tenant).status_code == 404
    rows = outbox_rows(client, tid)
    assert [row["event_type"] for row in rows] == [
        "geo.territory.created.v1",
        "geo.territory.renamed.v1",
        "geo.territory.deleted.v1",
    ]
    assert [json.loads(row["payload"])["data"]["version"] for row in rows] == [1, 2, 3]


def test_a_stale_if_match_gets_412_and_changes_nothing(client, tenant):
    tid = client.post("/v1/territories", json={"code": "S", "name": "s"}, headers=tenant).json()["id"]
    client.patch(f"/v1/territories/{tid}", json={"name": "s2"}, headers=tenant)
    r = client.patch(f"/v1/territories/{tid}", json={"name": "lost update"}, headers={**tenant, "If-Match": '"1"'})
    assert r.status_code == 412
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["current_version"] == 2
    assert client.get(f"/v1/territories/{tid}", headers=tenant).json()["name"] == "s2"
    assert len(outbox_rows(client, tid)) == 2


def test_a_duplicate_code_is_a_conflict(client, tenant):
    assert client.post("/v1/territories", json={"code": "D", "name": "d"}, headers=tenant).status_code == 201
    r = client.post("/v1/territories", json={"code": "D", "name": "d again"}, headers=tenant)
    assert r.status_code == 409 and r.json()["field"] == "code"


def test_tenants_do_not_see_each_other(client, tenant):
    tid = client.post("/v1/territories", json={"code": "X", "name": "x"}, headers=tenant).json()["id"]
    other = auth_headers("someone-else")
    assert client.get(f"/v1/territories/{tid}", headers=other).status_code == 404
    assert client.delete(f"/v1/territories/{tid}", headers=other).status_code == 404
    assert all(t["id"] != tid for t in client.get("/v1/territories", headers=other).json()["items"])


def test_listing_pages_with_next_links(client, tenant):
    for i in range(5):
        client.post("/v1/territories", json={"code": f"P{i}", "name": f"p{i}"}, headers=tenant)
    page = client.get("/v1/territories?limit=2", headers=tenant).json()
    codes = [t["code"] for t in page["items"]]
    while page["next"]:
        page = client.get(page["next"], headers=tenant).json()
        codes += [t["code"] for t in page["items"]]
    assert codes == ["P0", "P1", "P2", "P3", "P4"]


@pytest.mark.parametrize(
    ("body", "headers", "status", "field"),
    [
        ('{"code": "B1", "name": 12}', {}, 422, "name"),
        ('{"code": "B1", "name": "b", "colour": "red"}', {}, 422, "colour"),
        ('{"code": "B1", "name": ', {}, 400, "body"),
        ('{"code": "", "name": "b"}', {}, 422, "code"),
    ],
    ids=["wrong-type", "unknown-field", "malformed-json", "empty-code"],
)
def test_bad_requests_get_problem_json_naming_the_field_and_change_nothing(
    client, tenant, body, headers, status, field
):
    r = client.post("/v1/territories", content=body, headers={**tenant, "content-type": "application/json", **headers})
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["status"] == status and problem["title"] and problem["detail"]
    assert field in [e["field"] for e in problem["errors"]]
    assert client.get("/v1/territories", headers=tenant).json()["items"] == []


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok", "service": "geo-service"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": True}


def test_openapi_documents_the_territory_endpoints(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/territories", "/v1/territories/{territory_id}"} <= set(paths)
