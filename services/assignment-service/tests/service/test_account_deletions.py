"""Bulk delete of accounts: by external ids (JSON), by CSV, by filter; idempotent; bad input refused by field."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.support.auth import tenant_of
from tests.support.databases import fetch_all

from .conftest import upsert
from .geography import CHARLOTTE, DURHAM, MECKLENBURG, RALEIGH, WAKE, draft, import_nc, outbox_events, owners, publish

pytestmark = pytest.mark.postgis

ROWS = [
    {"external_id": "clinic", "lat": RALEIGH[1], "lon": RALEIGH[0], "industry": "Healthcare", "zip": "27601"},
    {"external_id": "shop", "lat": CHARLOTTE[1], "lon": CHARLOTTE[0], "industry": "retail", "zip": "28202"},
    {"external_id": "bank", "lat": RALEIGH[1], "lon": RALEIGH[0], "industry": "finance", "zip": "27603"},
    {"external_id": "mill", "zip": "28203", "industry": "manufacturing"},
]


@pytest.fixture
def nc(client, tenant, tmp_path):
    layer = import_nc(client, tenant, tmp_path)
    publish(client, tenant, draft(client, tenant, layer, {"EAST": [WAKE, DURHAM], "WEST": [MECKLENBURG]}))
    assert upsert(client, tenant, ROWS).status_code == 200
    return tenant


def bulk_delete(client, tenant, body, **headers):
    if isinstance(body, str):
        headers = {"content-type": "text/csv", **headers}
        return client.post("/v1/accounts/bulk-delete", content=body.encode(), headers={**tenant, **headers})
    return client.post("/v1/accounts/bulk-delete", json=body, headers={**tenant, **headers})


def deleted_events(client) -> int:
    url = client.app.state.assignment.state.runtime.settings.database_url
    sql = "SELECT count(*) AS n FROM outbox WHERE event_type = 'assignment.account.deleted.v1'"
    return int(fetch_all(url, sql)[0]["n"])


def test_deleting_by_ids_ends_each_account_as_the_single_delete_does_and_reports_the_unknown_ones(client, nc):
    tenant = nc
    r = bulk_delete(client, tenant, {"external_ids": ["clinic", "shop", "nobody", "clinic"]})
    assert r.status_code == 200, r.text
    assert r.json() == {
        "received": 3,
        "deleted": 2,
        "not_found": 1,
        "not_found_ids": ["nobody"],
        "not_found_truncated": False,
        "assignments_ended": 2,
    }
    assert client.get("/v1/accounts/clinic", headers=tenant).json()["deleted"] is True
    assert client.get("/v1/accounts/clinic/assignments", headers=tenant).json() == []
    assert set(owners(client, tenant)) == {"bank", "mill"}
    last = client.get("/v1/accounts/shop/history", headers=tenant).json()[-1]
    assert (last["from_territory_code"], last["to_territory_code"], last["trigger"]) == ("WEST", None, "account")
    # The single delete writes the same: its events have the same fields and values but the account's.
    assert client.delete("/v1/accounts/bank", headers=tenant).status_code == 204
    ours = tenant_of(tenant)
    deleted = {
        e["data"]["external_id"]: e
        for e in outbox_events(client, "assignment.account.deleted.v1")
        if e["tenantid"] == ours
    }
    assert {"clinic", "shop", "bank"} <= set(deleted) and deleted["clinic"]["data"]["version"] == 2
    assert deleted["clinic"]["subject"] == deleted["clinic"]["data"]["account_id"]
    reassigned = {
        e["data"]["external_id"]: e["data"]
        for e in outbox_events(client, "assignment.account.reassigned.v1")
        if e["tenantid"] == ours and e["data"]["trigger"] == "account" and e["data"]["to_territory_code"] is None
    }
    assert set(reassigned) == {"clinic", "shop", "bank"}
    differ = {"account_id", "external_id", "from_territory_code", "from_rep_id"}
    assert {k: v for k, v in reassigned["clinic"].items() if k not in differ} == {
        k: v for k, v in reassigned["bank"].items() if k not in differ
    }
    # Deleted ones are not found a second time.
    again = bulk_delete(client, tenant, {"external_ids": ["clinic", "bank"]}).json()
    assert (again["deleted"], again["not_found_ids"]) == (0, ["clinic", "bank"])


def test_a_retry_with_the_same_idempotency_key_deletes_nothing_twice(client, nc):
    tenant = nc
    first = bulk_delete(client, tenant, {"external_ids": ["shop"]}, **{"Idempotency-Key": "del-1"})
    assert first.status_code == 200 and first.json()["deleted"] == 1
    before = deleted_events(client)
    # The account comes back meanwhile: the retry must not delete it again.
    assert upsert(client, tenant, [ROWS[1]]).json()["updated"] == 1
    retry = bulk_delete(client, tenant, {"external_ids": ["shop"]}, **{"Idempotency-Key": "del-1"})
    assert retry.status_code == 200 and retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()
    assert client.get("/v1/accounts/shop", headers=tenant).json()["deleted"] is False
    assert deleted_events(client) == before
    other = bulk_delete(client, tenant, {"external_ids": ["bank"]}, **{"Idempotency-Key": "del-1"})
    assert other.status_code == 409 and other.headers["content-type"] == "application/problem+json"
    assert client.get("/v1/accounts/bank", headers=tenant).json()["deleted"] is False


def test_a_csv_with_an_external_id_column_deletes_the_accounts_it_lists(client, nc):
    tenant = nc
    r = bulk_delete(client, tenant, 'name,external_id\r\n"the clinic",clinic\r\n\r\nx,mill\r\n')
    assert r.status_code == 200, r.text
    assert (r.json()["received"], r.json()["deleted"], r.json()["not_found"]) == (2, 2, 0)
    assert set(owners(client, tenant)) == {"shop", "bank"}


def test_a_filter_deletes_the_live_accounts_meeting_every_condition(client, nc):
    tenant = nc
    r = bulk_delete(client, tenant, {"where": {"industry": "HEALTHCARE"}})
    assert (r.status_code, r.json()["deleted"]) == (200, 1), r.text
    r = bulk_delete(client, tenant, {"where": {"zip_prefix": "282", "industry": "retail"}})
    assert (r.json()["deleted"], set(owners(client, tenant))) == (1, {"bank", "mill"})
    # An account with no location (written before locations were required) is found by has_location=false.
    runtime = client.app.state.assignment.state.runtime

    async def forget_location() -> None:
        async with runtime.sessions() as session, session.begin():
            await session.execute(
                text("UPDATE accounts SET lat = NULL, lon = NULL WHERE tenant_id = :t AND external_id = 'mill'"),
                {"t": tenant_of(tenant)},
            )

    client.portal.call(forget_location)
    r = bulk_delete(client, tenant, {"where": {"has_location": False}})
    assert (r.json()["received"], r.json()["deleted"], set(owners(client, tenant))) == (1, 1, {"bank"})


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "external_ids"),
        ({"external_ids": []}, "external_ids"),
        ({"external_ids": ["bank", " "]}, "external_ids.1"),
        ({"external_ids": ["bank", 7]}, "external_ids.1"),
        ({"external_ids": ["bank"], "where": {"industry": "retail"}}, "external_ids"),
        ({"where": {}}, "where"),
        ({"where": {"zip_prefix": "27a"}}, "where.zip_prefix"),
        ({"where": {"size": "XXL"}}, "where.size"),
        ({"where": {"colour": "red"}}, "where.colour"),
        ("id\nbank\n", "external_id"),
        ("external_id,name\nbank,x\n,y\n", "external_id"),
    ],
)
def test_bad_input_is_refused_whole_naming_the_field_and_deletes_nothing(client, nc, body, field):
    tenant = nc
    r = bulk_delete(client, tenant, body)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", r.text
    assert field in [e["field"] for e in r.json()["errors"]], r.json()
    assert client.get("/v1/accounts/bank", headers=tenant).json()["deleted"] is False


def test_an_unsupported_content_type_is_refused(client, tenant):
    r = client.post("/v1/accounts/bulk-delete", content=b"<ids/>", headers={**tenant, "content-type": "text/xml"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "content-type"
