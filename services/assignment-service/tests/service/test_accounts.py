"""Bulk upsert of accounts: formats, Idempotency-Key, ZIP-only accounts, bad rows by line, all-or-nothing."""

from __future__ import annotations

import json

import pytest

from tests.support.databases import fetch_all

from .conftest import upsert

pytestmark = pytest.mark.postgis


def test_json_ndjson_and_csv_upsert_the_same_way_and_unchanged_rows_change_nothing(client, tenant):
    r = upsert(client, tenant, [{"external_id": "a1", "lat": 35.78, "lon": -78.64, "potential": 10, "size": "l"}])
    assert r.status_code == 200 and r.json()["created"] == 1, r.text
    ndjson = (
        b'{"external_id": "a2", "lat": 35.9, "lon": -78.9, "custom.beds": 120}\n\n'
        b'{"external_id": "a1", "lat": 35.78, "lon": -78.64, "potential": 10, "size": "L"}\n'
    )
    r = upsert(client, tenant, ndjson, headers={"content-type": "application/x-ndjson"})
    assert r.json() | {"errors": []} == r.json() and (r.json()["created"], r.json()["unchanged"]) == (1, 1)
    csv_body = (
        b'external_id,lat,lon,industry,potential,custom.beds\na3,35.2,-80.8,"health, care",5,\na2,35.9,-78.9,,7,120\n'
    )
    r = upsert(client, tenant, csv_body, headers={"content-type": "text/csv"})
    assert (r.json()["created"], r.json()["updated"]) == (1, 1), r.text
    a3 = client.get("/v1/accounts/a3", headers=tenant).json()
    assert a3["industry"] == "health, care" and a3["custom"] == {} and a3["location_precision"] == "exact"
    a2 = client.get("/v1/accounts/a2", headers=tenant)
    assert a2.json()["custom"] == {"beds": 120.0} and a2.json()["version"] == 2 and a2.headers["etag"] == '"2"'
    assert client.get("/v1/accounts/a1", headers=tenant).json()["size"] == "L"
    page = client.get("/v1/accounts?limit=2", headers=tenant).json()
    rest = client.get(page["next"], headers=tenant).json()
    assert len(page["items"]) == 2 and len(rest["items"]) == 1 and rest["next"] is None


def test_a_retry_with_the_same_idempotency_key_changes_nothing_twice(client, tenant):
    rows = [{"external_id": f"k{i}", "lat": 35.0, "lon": -79.0, "potential": i} for i in range(50)]
    first = upsert(client, tenant, rows, headers={"Idempotency-Key": "batch-1"})
    assert first.status_code == 200 and first.json()["created"] == 50
    url = client.app.state.assignment.state.runtime.settings.database_url
    before = fetch_all(url, "SELECT count(*) AS n FROM outbox")[0]["n"]
    # Someone changes an account between the original and the retry: the retry must not undo it.
    upsert(client, tenant, [{"external_id": "k0", "lat": 35.0, "lon": -79.0, "potential": 999}])
    retry = upsert(client, tenant, rows, headers={"Idempotency-Key": "batch-1"})
    assert retry.status_code == 200 and retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()
    assert client.get("/v1/accounts/k0", headers=tenant).json()["potential"] == 999
    assert fetch_all(url, "SELECT count(*) AS n FROM outbox")[0]["n"] == before + 1
    other = upsert(client, tenant, rows[:3], headers={"Idempotency-Key": "batch-1"})
    assert other.status_code == 409 and other.headers["content-type"] == "application/problem+json"


def test_a_zip_only_account_is_placed_on_its_zip_point_with_the_precision_recorded(client, tenant):
    r = upsert(client, tenant, [{"external_id": "z1", "zip": "27601-1234"}, {"external_id": "z2", "zip": 2134}])
    assert r.json()["created"] == 2, r.text
    z1 = client.get("/v1/accounts/z1", headers=tenant).json()
    assert z1["location_precision"] == "zip-centroid" and z1["zip"] == "27601"
    assert abs(z1["lat"] - 35.77) < 0.05 and abs(z1["lon"] + 78.63) < 0.05
    assert client.get("/v1/accounts/z2", headers=tenant).json()["zip"] == "02134"


def test_bad_rows_are_reported_by_line_and_the_valid_ones_applied(client, tenant):
    body = (
        b'{"external_id": "ok1", "lat": 35, "lon": -79}\n'
        b'{"external_id": "far", "lat": 95, "lon": -200}\n'
        b"{not json\n"
        b'{"external_id": "ok1", "lat": 36, "lon": -79}\n'
        b'{"external_id": "nowhere"}\n'
        b'{"external_id": "zz", "zip": "00000"}\n'
        b'{"external_id": "neg", "lat": 35, "lon": -79, "potential": -3, "size": "XXL", "colour": "red"}\n'
        b'{"external_id": "ok2", "lat": 35, "lon": -78}\n'
    )
    r = upsert(client, tenant, body, headers={"content-type": "application/x-ndjson"})
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["created"], report["rejected"]) == (2, 6)
    by_line = {}
    for e in report["errors"]:
        by_line.setdefault(e["line"], set()).add(e["field"])
    assert by_line == {
        2: {"lat", "lon"},
        3: {"row"},
        4: {"external_id"},
        5: {"location"},
        6: {"zip"},
        7: {"potential", "size", "colour"},
    }
    dup = next(e for e in report["errors"] if e["line"] == 4)
    assert "duplicate" in dup["reason"] and "line 1" in dup["reason"]
    assert client.get("/v1/accounts/ok1", headers=tenant).json()["lat"] == 35


def test_all_or_nothing_applies_nothing_when_one_row_fails(client, tenant):
    rows = [{"external_id": f"n{i}", "lat": 35, "lon": -79} for i in range(12_000)]
    rows.append({"external_id": "bad", "lat": "north", "lon": -79})
    r = upsert(client, tenant, rows, all_or_nothing="true")
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"] == [
        {"line": 12_001, "external_id": "bad", "field": "lat/lon", "reason": "not numbers: 'north', -79"}
    ]
    assert client.get("/v1/accounts/n0", headers=tenant).status_code == 404


def test_a_body_that_is_not_a_json_array_is_refused_and_nothing_applied(client, tenant):
    r = upsert(
        client,
        tenant,
        b'[{"external_id": "x1", "lat": 35, "lon": -79}, {"external_id": ',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400 and "element 2" in r.json()["detail"]
    assert client.get("/v1/accounts/x1", headers=tenant).status_code == 404
    # Valid JSON of the wrong shape is a wrong value, not a malformed body.
    r = upsert(client, tenant, json.dumps({"external_id": "x"}).encode(), headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body"


def test_deleting_an_account_keeps_its_history(client, tenant):
    upsert(client, tenant, [{"external_id": "d1", "lat": 35, "lon": -79}])
    assert client.delete("/v1/accounts/d1", headers=tenant).status_code == 204
    assert client.get("/v1/accounts/d1", headers=tenant).json()["deleted"] is True
    assert client.delete("/v1/accounts/d1", headers=tenant).status_code == 404
