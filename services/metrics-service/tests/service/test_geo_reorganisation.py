"""geo-service reorganising what metrics-service measures: a territory moved under another parent (and a whole
hierarchy imported as CSV) re-sums the parents; a deleted layer is forgotten, live and on a replay of the topics."""

from __future__ import annotations

import json
import uuid

import pytest
from territory_shared.events.envelope import new_event
from territory_shared.events.geo import AlignmentCreatedV1, AlignmentDeletedV1, LayerDeletedV1, LayerImportedV1
from territory_shared.messaging.bus import OutgoingMessage

from tests.support.auth import tenant_of
from tests.support.databases import fetch_all

from .conftest import eventually, new_tenant, platform_app

pytestmark = pytest.mark.postgis


def geo(client, method, path, tenant, **kw):
    r = client.request(method, f"/geo{path}", headers={**tenant, **kw.pop("headers", {})}, **kw)
    assert r.status_code < 300, r.text
    return r


def grid_layer(client, tenant, name: str) -> str:
    """Six one-degree squares U00..U21 whose ``pop`` is 10x + y + 1."""
    features = [
        {
            "type": "Feature",
            "properties": {"id": f"U{x}{y}", "pop": 10 * x + y + 1},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[x, y], [x + 1, y], [x + 1, y + 1], [x, y + 1], [x, y]]],
            },
        }
        for x in range(3)
        for y in range(2)
    ]
    body = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    r = geo(
        client,
        "POST",
        "/v1/layers",
        tenant,
        files={"file": ("grid.geojson", body)},
        data={"name": name, "id_column": "id", "attributes": "pop"},
    )
    job_id = r.json()["job_id"]
    job = eventually(
        lambda: (
            (j := geo(client, "GET", f"/v1/jobs/{job_id}", tenant).json())["status"] in ("succeeded", "failed") and j
        ),
        60,
        "layer import",
    )
    assert job["status"] == "succeeded", job
    return job["result"]["layer_id"]


def by_code_when(client, tenant, alignment_id, ready) -> dict[str, dict]:
    def check():
        r = client.get(f"/metrics/v1/alignments/{alignment_id}/metrics", headers=tenant)
        if r.status_code != 200:
            return None
        rows = {t["code"]: t for t in r.json()["territories"]}
        return rows if ready(rows) else None

    return eventually(check, 60, "metrics-service reflects geo-service")


def test_moving_a_territory_under_another_parent_re_sums_both_parents(client):
    tenant = new_tenant()
    layer_id = grid_layer(client, tenant, "grid")
    a = geo(client, "POST", "/v1/alignments", tenant, json={"name": "FY27", "sales_force": "f", "layer_id": layer_id})
    alignment_id = a.json()["id"]
    # The hierarchy from CSV: NORTH > A, B; SOUTH empty; then the units.
    csv_body = "code,name,parent_code,colour\nA,a,NORTH,\nB,b,NORTH,\nNORTH,north,,\nSOUTH,south,,\n"
    geo(client, "PUT", f"/v1/alignments/{alignment_id}/territories.csv", tenant, content=csv_body.encode())
    units = "unit_id,territory_code\nU00,A\nU01,A\nU10,B\n"
    geo(client, "PUT", f"/v1/alignments/{alignment_id}/assignments.csv", tenant, content=units.encode())
    rows = by_code_when(client, tenant, alignment_id, lambda r: r.get("NORTH", {}).get("unit_count") == 3)
    assert rows["NORTH"]["values"]["pop"] == 1 + 2 + 11 and rows["SOUTH"]["unit_count"] == 0

    geo(
        client,
        "PATCH",
        f"/v1/territories/{rows['A']['territory_id']}",
        tenant,
        json={"parent_id": rows["SOUTH"]["territory_id"]},
    )

    rows = by_code_when(client, tenant, alignment_id, lambda r: r["SOUTH"]["unit_count"] == 2)
    assert rows["A"]["parent_id"] == rows["SOUTH"]["territory_id"]
    assert rows["SOUTH"]["values"]["pop"] == 1 + 2 and not rows["SOUTH"]["leaf"]
    assert rows["NORTH"]["values"]["pop"] == 11 and rows["NORTH"]["unit_count"] == 1


def test_a_deleted_layer_is_forgotten_live_and_on_a_replay(client, store):
    tenant = new_tenant()
    layer_id = grid_layer(client, tenant, "short-lived")
    draft = geo(
        client, "POST", "/v1/alignments", tenant, json={"name": "tmp", "sales_force": "f", "layer_id": layer_id}
    )
    alignment_id = draft.json()["id"]
    eventually(
        lambda: client.get(f"/metrics/v1/alignments/{alignment_id}/metrics", headers=tenant).status_code == 200,
        60,
        "the draft is measured",
    )
    query = "SELECT count(*) AS n FROM unit_projection WHERE layer_id = :l"
    assert fetch_all(store["metrics"], query, l=layer_id)[0]["n"] == 6

    geo(client, "DELETE", f"/v1/alignments/{alignment_id}", tenant)
    geo(client, "DELETE", f"/v1/layers/{layer_id}", tenant)

    layers = "SELECT count(*) AS n FROM layer_projection WHERE layer_id = :l"
    eventually(lambda: fetch_all(store["metrics"], layers, l=layer_id)[0]["n"] == 0, 30, "the layer is forgotten")
    assert fetch_all(store["metrics"], query, l=layer_id)[0]["n"] == 0
    # A metrics-service rebuilt from the topics meets the layer and its draft after both are gone from geo-service:
    # it ends in the same state, without failing on them.
    alignments = "SELECT alignment_id, layer_id, state, deleted FROM alignment_projection ORDER BY 1"
    all_layers = "SELECT layer_id, tenant_id, name FROM layer_projection ORDER BY 1"
    with ReplayClient(store) as replay:
        eventually(
            lambda: (
                fetch_all(store["replay"], alignments) == fetch_all(store["metrics"], alignments)
                and fetch_all(store["replay"], all_layers) == fetch_all(store["metrics"], all_layers)
            ),
            90,
            "the replay equals the live projections",
        )
        assert replay.get("/metrics/readyz").status_code == 200
    assert fetch_all(store["replay"], query, l=layer_id)[0]["n"] == 0


def test_an_alignment_met_after_its_layer_was_deleted_is_projected_without_the_layer(client, store):
    """Topics interleave: a consumer may meet a layer's deletion before the creation of a (since deleted) draft on
    it. Neither is in geo-service any more; the draft is projected as created then deleted, not dead-lettered."""
    tenant = new_tenant()
    tenant_id = tenant_of(tenant)
    layer_id, alignment_id = str(uuid.uuid4()), str(uuid.uuid4())
    events = [
        ("geo.layer", layer_id, "geo.layer.imported.v1", LayerImportedV1(
            layer_id=layer_id, name="gone", kind="polygon", unit_count=0, attributes=[]
        )),
        ("geo.layer", layer_id, "geo.layer.deleted.v1", LayerDeletedV1(layer_id=layer_id, name="gone")),
        ("geo.alignment", alignment_id, "geo.alignment.created.v1", AlignmentCreatedV1(
            alignment_id=alignment_id, layer_id=layer_id, sales_force="f", name="gone", state="draft", version=1
        )),
        ("geo.alignment", alignment_id, "geo.alignment.deleted.v1", AlignmentDeletedV1(alignment_id=alignment_id)),
    ]  # fmt: skip
    messages = [
        OutgoingMessage(
            topic,
            key,
            new_event(source="/geo-service", type=type_, subject=key, tenant_id=tenant_id, data=data).to_bytes(),
        )
        for topic, key, type_, data in events
    ]
    client.portal.call(client.app.state.bus.publisher().publish, messages)

    query = "SELECT layer_id, state, deleted FROM alignment_projection WHERE alignment_id = :a"
    rows = eventually(
        lambda: (r := fetch_all(store["metrics"], query, a=alignment_id)) and r[0]["deleted"] and r,
        30,
        "the draft is projected, then deleted",
    )
    assert rows[0]["layer_id"] == layer_id
    layers = "SELECT count(*) AS n FROM layer_projection WHERE layer_id = :l"
    assert fetch_all(store["metrics"], layers, l=layer_id)[0]["n"] == 0


class ReplayClient:
    """A second metrics-service on an empty database, consuming the same topics from the start."""

    def __init__(self, store):
        from fastapi.testclient import TestClient

        app = platform_app(store, metrics_db=store["replay"], service_name="metrics-replay", geo_workers=False)
        self._client = TestClient(app)

    def __enter__(self):
        return self._client.__enter__()

    def __exit__(self, *exc):
        return self._client.__exit__(*exc)
