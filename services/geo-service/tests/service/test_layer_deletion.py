"""Deleting a unit layer: only one no alignment uses, with its units and adjacency, announced once."""

from __future__ import annotations

import json

import pytest

from tests.support.auth import auth_headers, tenant_of
from tests.support.databases import fetch_all

from .boundaries import feature_collection, square
from .conftest import import_file

pytestmark = pytest.mark.postgis


def grid_layer(client, tenant, name: str) -> str:
    """A 3 x 2 grid of one-degree squares: units that share borders, so the layer has adjacency."""
    features = [
        {
            "type": "Feature",
            "properties": {"id": f"U{x}{y}", "pop": 10 * x + y},
            "geometry": {"type": "Polygon", "coordinates": square(x, y)},
        }
        for x in range(3)
        for y in range(2)
    ]
    job = import_file(
        client,
        tenant,
        content=feature_collection(features),
        filename="grid.geojson",
        name=name,
        id_column="id",
        attributes="pop",
    )
    assert job["status"] == "succeeded", job
    return job["result"]["layer_id"]


def rows_of(client, table: str, layer_id: str) -> int:
    url = client.app.state.runtime.settings.database_url
    return fetch_all(url, f"SELECT count(*) AS n FROM {table} WHERE layer_id = :l", l=layer_id)[0]["n"]


def alignment(client, tenant, layer_id: str, name: str, sales_force: str = "field") -> dict:
    r = client.post(
        "/v1/alignments", json={"name": name, "sales_force": sales_force, "layer_id": layer_id}, headers=tenant
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_an_unused_layer_is_deleted_with_its_units_and_adjacency_and_announced(client, tenant):
    layer_id = grid_layer(client, tenant, "grid to delete")
    kept = grid_layer(client, tenant, "grid to keep")
    assert rows_of(client, "units", layer_id) == 6 and rows_of(client, "adjacency", layer_id) > 0

    r = client.delete(f"/v1/layers/{layer_id}", headers=tenant)

    assert r.status_code == 204, r.text
    assert client.get(f"/v1/layers/{layer_id}", headers=tenant).status_code == 404
    assert client.get(f"/v1/layers/{layer_id}/units", headers=tenant).status_code == 404
    assert client.get(f"/v1/layers/{layer_id}/adjacency", headers=tenant).status_code == 404
    assert rows_of(client, "units", layer_id) == 0 and rows_of(client, "adjacency", layer_id) == 0
    assert [layer["id"] for layer in client.get("/v1/layers", headers=tenant).json()] == [kept]
    assert rows_of(client, "units", kept) == 6
    events = fetch_all(
        client.app.state.runtime.settings.database_url,
        "SELECT event_type, payload FROM outbox WHERE key = :k ORDER BY seq",
        k=layer_id,
    )
    assert [e["event_type"] for e in events] == ["geo.layer.imported.v1", "geo.layer.deleted.v1"]
    envelope = json.loads(bytes(events[1]["payload"]))
    assert envelope["tenantid"] == tenant_of(tenant)
    assert envelope["data"] == {"layer_id": layer_id, "name": "grid to delete"}
    # Deleted is gone: a second delete is 404, and no alignment can be made on it.
    assert client.delete(f"/v1/layers/{layer_id}", headers=tenant).status_code == 404
    r = client.post("/v1/alignments", json={"name": "late", "sales_force": "f", "layer_id": layer_id}, headers=tenant)
    assert r.status_code == 404


def test_a_layer_used_by_alignments_in_any_state_is_refused_naming_each_of_them(client, tenant):
    layer_id = grid_layer(client, tenant, "grid in use")
    first = alignment(client, tenant, layer_id, "FY27")
    published = client.post(f"/v1/alignments/{first['id']}/publish", headers=tenant)
    assert published.status_code == 200, published.text
    draft = alignment(client, tenant, layer_id, "what-if")

    r = client.delete(f"/v1/layers/{layer_id}", headers=tenant)

    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    named = {a["id"]: a["state"] for a in r.json()["alignments"]}
    assert named == {first["id"]: "active", draft["id"]: "draft"}
    assert "FY27" in r.json()["detail"] and "what-if" in r.json()["detail"]
    assert client.get(f"/v1/layers/{layer_id}", headers=tenant).status_code == 200
    assert rows_of(client, "units", layer_id) == 6 and rows_of(client, "adjacency", layer_id) > 0

    # Deleting the draft leaves the active alignment, which still holds the layer (and later its archive).
    assert client.delete(f"/v1/alignments/{draft['id']}", headers=tenant).status_code == 204
    client.post(f"/v1/alignments/{first['id']}/archive", headers=tenant)
    r = client.delete(f"/v1/layers/{layer_id}", headers=tenant)
    assert r.status_code == 409
    assert r.json()["alignments"] == [{"id": first["id"], "name": "FY27", "sales_force": "field", "state": "archived"}]


def test_a_layer_whose_drafts_were_deleted_can_be_deleted(client, tenant):
    layer_id = grid_layer(client, tenant, "grid with a draft")
    draft = alignment(client, tenant, layer_id, "scratch")
    assert client.delete(f"/v1/layers/{layer_id}", headers=tenant).status_code == 409
    assert client.delete(f"/v1/alignments/{draft['id']}", headers=tenant).status_code == 204
    assert client.delete(f"/v1/layers/{layer_id}", headers=tenant).status_code == 204
    assert rows_of(client, "units", layer_id) == 0


def test_an_unknown_layer_or_another_tenants_is_not_found_and_a_manager_may_not_delete(client, tenant):
    layer_id = grid_layer(client, tenant, "mine")
    r = client.delete("/v1/layers/00000000-0000-4000-8000-000000000000", headers=tenant)
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    other = auth_headers(f"{tenant_of(tenant)}-other")
    assert client.delete(f"/v1/layers/{layer_id}", headers=other).status_code == 404
    manager = auth_headers(tenant_of(tenant), "manager")
    assert client.delete(f"/v1/layers/{layer_id}", headers=manager).status_code == 403
    planner = auth_headers(tenant_of(tenant), "planner")
    assert client.get(f"/v1/layers/{layer_id}", headers=planner).status_code == 200
    assert rows_of(client, "units", layer_id) == 6
    assert client.delete(f"/v1/layers/{layer_id}", headers=planner).status_code == 204
