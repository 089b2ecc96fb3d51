"""Accounts on North Carolina's real counties: geography assignment, realignment on publish, preview, history."""

from __future__ import annotations

import uuid

import pytest

from tests.support.auth import auth_headers, tenant_of

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


def _realign_with_overrides_and_white_space(client, tenant, layer) -> dict:
    """Durham moves EAST -> WEST and Orange to white space, with two Durham accounts pinned by overrides; what
    the run did, in terms that do not depend on the tenant's ids."""
    publish(client, tenant, draft(client, tenant, layer, {"EAST": [WAKE, DURHAM], "WEST": [MECKLENBURG, ORANGE]}))
    reps = {rep(client, tenant, "ana", "EAST"): "ana", rep(client, tenant, "bo", "WEST"): "bo"}
    rows = [
        *accounts(),
        {"external_id": "durham-2", "lat": DURHAM_CITY[1] + 0.01, "lon": DURHAM_CITY[0], "potential": 40},
        {"external_id": "durham-3", "lat": DURHAM_CITY[1] - 0.01, "lon": DURHAM_CITY[0], "potential": 10},
    ]
    assert upsert(client, tenant, rows).status_code == 200
    pins = {"durham-1": {"territory_code": "EAST"}, "durham-3": {"rep_external_id": "ana"}}
    for ext, body in pins.items():
        r = client.put(f"/v1/sales-forces/field/overrides/{ext}", json=body, headers=tenant)
        assert r.status_code == 200, r.text
    second = draft(client, tenant, layer, {"EAST": [WAKE], "WEST": [MECKLENBURG, DURHAM]})
    preview = client.post(f"/v1/realignments/preview?alignment_id={second['id']}", headers=tenant).json()
    run = publish(client, tenant, second)
    assert run["mode"] == "incremental"
    assert run["summary"]["reps"] == preview["reps"] and run["summary"]["territories"] == preview["territories"]
    page = client.get("/v1/sales-forces/field/assignments?limit=100", headers=tenant).json()["items"]
    changes = client.get(f"/v1/realignments/{run['id']}/changes", headers=tenant).json()["items"]
    events = [
        e["data"]
        for e in outbox_events(client, "assignment.account.reassigned.v1")
        if e["data"].get("run_id") == run["id"]
    ]
    tenant_ids = ("account_id", "run_id", "alignment_id", "from_rep_id", "to_rep_id", "id", "seq", "changed_at")
    return {
        "owners": {
            a["external_id"]: (a["territory_code"], reps.get(a["rep_id"]), a["cause"], a["reason"]) for a in page
        },
        "changes": sorted(
            (c["external_id"], c["from_territory_code"], c["to_territory_code"], c["to_rep_external_id"], c["cause"])
            for c in changes
        ),
        "events": sorted(({k: v for k, v in e.items() if k not in tenant_ids} for e in events), key=str),
        "summary": {
            "accounts_moved": run["summary"]["accounts_moved"],
            "potential_moved": run["summary"]["potential_moved"],
            "reps": [{k: v for k, v in r.items() if k != "rep_id"} for r in run["summary"]["reps"]],
            "territories": run["summary"]["territories"],
        },
    }


def test_a_realignment_moves_accounts_set_based_exactly_as_row_by_row(client, nc, tmp_path, monkeypatch):
    """On PostgreSQL the accounts of changed units move by set-based statements; the row-by-row path (SQLite,
    rules) must give the same assignments, history, events and notice."""
    from assignment_service.db.unit_moves import UnitMoves

    tenant, layer = nc
    moved_set_based: list[int] = []
    move = UnitMoves.move

    async def counting_move(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        rows = await move(self, *args, **kwargs)
        moved_set_based.append(len(rows))
        return rows

    monkeypatch.setattr(UnitMoves, "move", counting_move)
    set_based = _realign_with_overrides_and_white_space(client, tenant, layer)
    on_postgres = client.app.state.assignment.state.runtime.settings.database_url.startswith("postgresql")
    assert sum(moved_set_based) == (2 if on_postgres else 0)  # durham-2 and chapel-hill-1; the pinned are not
    other = auth_headers(f"t-{uuid.uuid4().hex[:8]}")
    other_layer = import_nc(client, other, tmp_path)
    monkeypatch.setattr(UnitMoves, "available", staticmethod(lambda session: False))
    row_by_row = _realign_with_overrides_and_white_space(client, other, other_layer)
    assert set_based == row_by_row
    owners_now = set_based["owners"]
    assert owners_now["durham-2"][:3] == ("WEST", "bo", "geography")
    assert owners_now["durham-1"][:3] == ("EAST", "ana", "override")
    assert owners_now["durham-3"][:3] == ("WEST", "ana", "override")
    assert owners_now["chapel-hill-1"][:3] == (None, None, "unassigned")
    assert "white space" in owners_now["chapel-hill-1"][3]
    assert set_based["changes"] == [
        ("chapel-hill-1", "WEST", None, None, "unassigned"),
        ("durham-2", "EAST", "WEST", "bo", "geography"),
        ("durham-3", "EAST", "WEST", "ana", "override"),
    ]
    assert set_based["summary"]["accounts_moved"] == 3


def test_a_first_publish_previews_every_account_it_assigns_and_every_owner_is_told(client, nc):
    tenant, layer = nc
    assert upsert(client, tenant, accounts()).status_code == 200  # before the sales force has any alignment
    first = draft(client, tenant, layer, {"EAST": [WAKE, DURHAM], "WEST": [MECKLENBURG]})
    preview = client.post(f"/v1/realignments/preview?alignment_id={first['id']}", headers=tenant).json()
    assert preview["accounts_moved"] == 6
    assert {c["external_id"]: (c["from_territory_code"], c["to_territory_code"]) for c in preview["changes"]} == {
        "raleigh-1": (None, "EAST"),
        "raleigh-2": (None, "EAST"),
        "durham-1": (None, "EAST"),
        "charlotte-1": (None, "WEST"),
        "chapel-hill-1": (None, None),
        "atlantic": (None, None),
    }
    run = publish(client, tenant, first)
    assert run["accounts_moved"] == preview["accounts_moved"]
    assert run["summary"]["territories"] == preview["territories"] and run["summary"]["reps"] == preview["reps"]

    told = {
        e["data"]["external_id"]: e["data"]
        for e in outbox_events(client, "assignment.account.reassigned.v1")
        if e["tenantid"] == tenant_of(tenant)
    }
    assert set(told) == {a["external_id"] for a in accounts()}  # first assignments are told too
    assert told["raleigh-1"]["from_territory_code"] is None and told["raleigh-1"]["to_territory_code"] == "EAST"
    assert told["raleigh-1"]["unit_id"] == WAKE and told["raleigh-1"]["by_geography"] is True
    # White space and outside every unit follow geography too: a draft that covers them assigns them.
    assert told["chapel-hill-1"]["unit_id"] == ORANGE and told["chapel-hill-1"]["by_geography"] is True
    assert told["atlantic"]["unit_id"] is None and told["atlantic"]["by_geography"] is True

    ana = rep(client, tenant, "ana", "EAST")
    rosters = [
        e["data"] for e in outbox_events(client, "assignment.roster.changed.v1") if e["tenantid"] == tenant_of(tenant)
    ]
    assert [(r["territory_code"], [x["rep_id"] for x in r["entries"]]) for r in rosters] == [("EAST", [ana])]
    assert rosters[0]["entries"][0]["role"] == "primary" and rosters[0]["entries"][0]["effective_to"] is None

    truth = client.get("/v1/sales-forces/field/ownership", headers=tenant).json()
    assert truth["alignment_id"] == first["id"]
    assert {
        t["territory_code"]: (t["accounts"], t["potential"], t["primary_rep_id"]) for t in truth["territories"]
    } == {
        "EAST": (3, 220.0, ana),
        "WEST": (1, 30.0, None),
        None: (2, 25.0, None),
    }


def test_announcing_ownership_again_tells_every_live_owner_and_roster_once_as_a_job(client, nc):
    tenant, layer = nc
    publish(client, tenant, draft(client, tenant, layer, {"EAST": [WAKE, DURHAM], "WEST": [MECKLENBURG]}))
    ana = rep(client, tenant, "ana", "EAST")
    assert upsert(client, tenant, accounts()).status_code == 200
    assert client.delete("/v1/accounts/atlantic", headers=tenant).status_code == 204

    def told(kind: str) -> list[dict]:
        return [e["data"] for e in outbox_events(client, kind) if e["tenantid"] == tenant_of(tenant)]

    before = len(told("assignment.account.reassigned.v1"))
    r = client.post("/v1/sales-forces/field/ownership/announce", headers=tenant)
    assert r.status_code == 202, r.text
    job = wait_for_job(client, tenant, "", r.json()["job_id"])
    assert job["status"] == "succeeded" and job["result"]["accounts_told"] == 5 and job["result"]["rosters_told"] == 1
    announced = told("assignment.account.reassigned.v1")[before:]
    assert sorted(a["external_id"] for a in announced) == sorted(a["external_id"] for a in accounts()[:5])
    now = owners(client, tenant)
    for a in announced:  # the owner as it is, from itself to itself: a projection's chain stays unbroken
        assert a["trigger"] == "announce" and a["from_territory_code"] == a["to_territory_code"]
        assert (a["to_territory_code"], a["to_rep_id"]) == now[a["external_id"]][:2]
    assert told("assignment.roster.changed.v1")[-1]["entries"][0]["rep_id"] == ana
    # Only an admin may: it sends an event per account.
    planner = auth_headers(tenant_of(tenant), role="planner")
    assert client.post("/v1/sales-forces/field/ownership/announce", headers=planner).status_code == 403
