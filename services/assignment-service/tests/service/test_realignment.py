"""Accounts on North Carolina's real counties: geography assignment, realignment on publish, preview, history."""

from __future__ import annotations

import pytest

from tests.support.auth import tenant_of

from .conftest import upsert, wait_for_job
from .geography import (
    CHAPEL_HILL,
    CHARLOTTE,
    DURHAM,
    DURHAM_CITY,
    MECKLENBURG,
    ORANGE,
    RALEIGH,
    WAKE,
    draft,
    import_nc,
    outbox_events,
    owners,
    publish,
    rep,
)

pytestmark = pytest.mark.postgis


def accounts() -> list[dict]:
    return [
        {"external_id": "raleigh-1", "lat": RALEIGH[1], "lon": RALEIGH[0], "potential": 100, "industry": "retail"},
        {"external_id": "raleigh-2", "lat": RALEIGH[1] + 0.01, "lon": RALEIGH[0], "potential": 50},
        {"external_id": "durham-1", "lat": DURHAM_CITY[1], "lon": DURHAM_CITY[0], "potential": 70},
        {"external_id": "charlotte-1", "lat": CHARLOTTE[1], "lon": CHARLOTTE[0], "potential": 30},
        {"external_id": "chapel-hill-1", "lat": CHAPEL_HILL[1], "lon": CHAPEL_HILL[0], "potential": 20},
        {"external_id": "atlantic", "lat": 33.0, "lon": -70.0, "potential": 5},
    ]


@pytest.fixture
def nc(client, tenant, tmp_path):
    """A tenant of its own with North Carolina's counties imported in geo-service."""
    return tenant, import_nc(client, tenant, tmp_path)


def test_accounts_get_the_territory_and_rep_of_their_county_and_move_on_publish(client, nc):
    tenant, layer = nc
    first = draft(client, tenant, layer, {"EAST": [WAKE, DURHAM], "WEST": [MECKLENBURG]})
    run1 = publish(client, tenant, first)
    assert run1["mode"] == "full"
    east, west = rep(client, tenant, "ana", "EAST"), rep(client, tenant, "bo", "WEST")
    r = upsert(client, tenant, accounts())
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 6
    now = owners(client, tenant)
    assert now["raleigh-1"] == ("EAST", east, "geography")
    assert now["durham-1"] == ("EAST", east, "geography")
    assert now["charlotte-1"] == ("WEST", west, "geography")
    assert now["chapel-hill-1"][0] is None and now["atlantic"][0] is None
    unassigned = client.get("/v1/sales-forces/field/assignments?unassigned=true", headers=tenant).json()["items"]
    reasons = {u["external_id"]: u["reason"] for u in unassigned}
    assert "white space" in reasons["chapel-hill-1"] and "outside every unit" in reasons["atlantic"]

    # Preview a draft that moves Durham to WEST and takes Orange into EAST; then publish it.
    second = draft(client, tenant, layer, {"EAST": [WAKE, ORANGE], "WEST": [MECKLENBURG, DURHAM]})
    preview = client.post(f"/v1/realignments/preview?alignment_id={second['id']}", headers=tenant).json()
    moved = {c["external_id"]: (c["from_territory_code"], c["to_territory_code"]) for c in preview["changes"]}
    assert moved == {"durham-1": ("EAST", "WEST"), "chapel-hill-1": (None, "EAST")}
    run2 = publish(client, tenant, second)
    assert run2["mode"] == "incremental" and run2["accounts_moved"] == 2
    changes = client.get(f"/v1/realignments/{run2['id']}/changes", headers=tenant).json()["items"]
    assert {c["external_id"]: (c["from_territory_code"], c["to_territory_code"]) for c in changes} == moved
    assert run2["summary"]["reps"] == preview["reps"]
    assert owners(client, tenant)["durham-1"] == ("WEST", west, "geography")

    notices = [
        e for e in outbox_events(client, "assignment.realignment.completed.v1") if e["tenantid"] == tenant_of(tenant)
    ]
    assert [n["data"]["run_id"] for n in notices] == [run1["id"], run2["id"]]
    reassigned = [
        e["data"]["external_id"]
        for e in outbox_events(client, "assignment.account.reassigned.v1")
        if e["data"].get("run_id") == run2["id"]
    ]
    assert sorted(reassigned) == ["chapel-hill-1", "durham-1"]
    csv_text = client.get(f"/v1/realignments/{run2['id']}/changes.csv", headers=tenant).text
    assert csv_text.splitlines()[0].startswith("account_id,external_id") and len(csv_text.splitlines()) == 3
    history = client.get("/v1/accounts/durham-1/history", headers=tenant).json()
    assert [(h["from_territory_code"], h["to_territory_code"], h["trigger"]) for h in history] == [
        (None, "EAST", "account"),
        ("EAST", "WEST", "realignment"),
    ]


def test_a_full_recompute_runs_as_a_job_with_progress_and_changes_nothing_that_is_current(client, nc):
    tenant, layer = nc
    publish(client, tenant, draft(client, tenant, layer, {"EAST": [WAKE, DURHAM], "WEST": [MECKLENBURG]}))
    assert upsert(client, tenant, accounts()).status_code == 200
    before = owners(client, tenant)
    r = client.post("/v1/sales-forces/field/recompute", headers=tenant)
    assert r.status_code == 202 and r.headers["location"].endswith(f"/v1/jobs/{r.json()['job_id']}")
    job = wait_for_job(client, tenant, "", r.json()["job_id"])
    assert job["status"] == "succeeded", job
    assert job["result"] == {
        "sales_force": "field",
        "alignment_id": job["result"]["alignment_id"],
        "accounts_moved": 0,
        "assigned": 4,
        "unassigned": 2,
    }
    assert owners(client, tenant) == before
