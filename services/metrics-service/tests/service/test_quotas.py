"""Quota plans over real NC counties: a goal split by a blend of potential and revenue, adjustments, roll-up, rep
quotas, attainment, CSV, a draft's preview, and a realignment in the middle of the period, on SQLite and PostGIS."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from territory_shared.events.assignment import (
    AccountReassignedV1,
    AccountUpsertedV1,
    RepUpsertedV1,
    RosterChangedV1,
    RosterEntry,
)

from tests.support.auth import auth_headers, tenant_of
from tests.support.databases import fetch_all

from .conftest import eventually, nc_zip
from .test_accounts import ASHEVILLE, CHARLOTTE, RALEIGH, send
from .test_nc_metrics import WAKE, caught_up, geo, metrics, move, territory

pytestmark = pytest.mark.postgis

MECKLENBURG, BUNCOMBE = "37119", "37021"
PLAN_CHANGED = "metrics.quota_plan.changed.v1"
TODAY = datetime.now(UTC).date()
YESTERDAY = TODAY - timedelta(days=1)
# A 30-day period that began 10 days ago: a realignment today leaves 10 days to the old alignment, 20 to the new.
STARTS, ENDS = TODAY - timedelta(days=10), TODAY + timedelta(days=19)
PLAN = {
    "goal": 1_000_000,
    "starts_on": STARTS.isoformat(),
    "ends_on": ENDS.isoformat(),
    "method": "blend",
    "potential_weight": 0.4,
    "adjustments": {"T1": 20_000, "T3": -20_000},
}


def upsert_account(client, tenant: str, key: str, lonlat, potential: float, revenue: float, version: int = 1) -> None:
    data = AccountUpsertedV1(
        account_id=key,
        external_id=key,
        version=version,
        lon=lonlat[0],
        lat=lonlat[1],
        location_precision="exact",
        potential=potential,
        revenue=revenue,
        visits_per_year=4,
        workload_hours=10,
    )
    send(client, tenant, "assignment.account", "assignment.account.upserted.v1", key, data)


def rep(client, tenant: str, rep_id: str) -> None:
    data = RepUpsertedV1(
        rep_id=rep_id,
        external_id=f"EXT-{rep_id}",
        version=1,
        name=f"Rep {rep_id}",
        capacity_hours=1000,
        role="rep",
        active=True,
    )
    send(client, tenant, "assignment.rep", "assignment.rep.upserted.v1", rep_id, data)


def roster(client, tenant: str, code: str, *entries: tuple[str, str]) -> None:
    rows = [
        RosterEntry(
            entry_id=f"{code}-{rep_id}",
            rep_id=rep_id,
            rep_external_id=f"EXT-{rep_id}",
            role=role,
            effective_from=date(2020, 1, 1),
        )
        for rep_id, role in entries
    ]
    data = RosterChangedV1(sales_force="field", territory_code=code, entries=rows)
    send(client, tenant, "assignment.roster", "assignment.roster.changed.v1", f"field/{code}", data)


def publish(client, tenant, alignment_id: str) -> None:
    version = geo(client, "GET", f"/v1/alignments/{alignment_id}", tenant).json()["version"]
    geo(client, "POST", f"/v1/alignments/{alignment_id}/publish", tenant, headers={"If-Match": f'"{version}"'})


def quotas(client, tenant, period: str = "P30", **params) -> dict:
    return metrics(client, f"/v1/sales-forces/field/quota-plans/{period}/quotas", tenant, **params)


def by_code(sheet: dict) -> dict[str, dict]:
    return {t["territory_code"]: t for t in sheet["territories"]}


def by_rep(sheet: dict) -> dict[str, dict]:
    return {r["rep_id"]: r for r in sheet["reps"]}


@pytest.fixture(scope="module")
def setup(client, tmp_path_factory):
    """Alignment A, active: EAST holds T1 (Wake: Raleigh) and T2 (Mecklenburg: Charlotte); T3 (Buncombe:
    Asheville) stands alone. Potential 1000 / 3000 / 1000, revenue 400k / 200k / 400k. r1 is T1's primary rep and
    r3 its secondary; r2 is primary on T2 and T3."""
    tenant = auth_headers(f"quota-{uuid.uuid4().hex[:6]}")
    t = tenant_of(tenant)
    r = geo(
        client,
        "POST",
        "/v1/layers",
        tenant,
        files={"file": ("sids2.zip", nc_zip(tmp_path_factory.mktemp("nc")).read_bytes())},
        data={"name": "NC", "id_column": "FIPS", "attributes": "BIR74"},
    )
    job_id = r.json()["job_id"]
    eventually(lambda: geo(client, "GET", f"/v1/jobs/{job_id}", tenant).json()["status"] == "succeeded", 120, "import")
    layer_id = geo(client, "GET", f"/v1/jobs/{job_id}", tenant).json()["result"]["layer_id"]
    a = geo(client, "POST", "/v1/alignments", tenant, json={"name": "A", "sales_force": "field", "layer_id": layer_id})
    a = a.json()["id"]
    east = territory(client, tenant, a, "EAST")
    t1, t2 = territory(client, tenant, a, "T1", east), territory(client, tenant, a, "T2", east)
    t3 = territory(client, tenant, a, "T3")
    move(client, tenant, a, [WAKE], t1)
    move(client, tenant, a, [MECKLENBURG], t2)
    move(client, tenant, a, [BUNCOMBE], t3)
    caught_up(client, tenant, a)
    for rep_id in ("r1", "r2", "r3"):
        rep(client, t, rep_id)
    for key, lonlat, potential, revenue in (
        ("raleigh", RALEIGH, 1000.0, 400_000.0),
        ("charlotte", CHARLOTTE, 3000.0, 200_000.0),
        ("asheville", ASHEVILLE, 1000.0, 400_000.0),
    ):
        upsert_account(client, t, key, lonlat, potential, revenue)
    for key, code, rep_id, unit in (
        ("raleigh", "T1", "r1", WAKE),
        ("charlotte", "T2", "r2", MECKLENBURG),
        ("asheville", "T3", "r2", BUNCOMBE),
    ):
        data = AccountReassignedV1(
            account_id=key,
            external_id=key,
            sales_force="field",
            from_territory_code=None,
            to_territory_code=code,
            from_rep_id=None,
            to_rep_id=rep_id,
            cause="geography",
            trigger="realignment",
            unit_id=unit,
            by_geography=True,
        )
        send(client, t, "assignment.account", "assignment.account.reassigned.v1", key, data)
    roster(client, t, "T1", ("r1", "primary"), ("r3", "secondary"))
    roster(client, t, "T2", ("r2", "primary"))
    roster(client, t, "T3", ("r2", "primary"))
    publish(client, tenant, a)

    def ready() -> bool:
        body = metrics(client, f"/v1/alignments/{a}/metrics", tenant)
        rows = {x["code"]: x for x in body["territories"]}
        return (
            body["state"] == "active"
            and rows["EAST"]["values"].get("account_revenue") == 600_000
            and rows["T3"]["primary_rep_id"] == "r2"
            and rows["T1"]["reps"] == 2
        )

    eventually(ready, 60, "accounts, reps and rosters projected")
    db = client.app.state.metrics.state.runtime.settings.database_url
    return {"tenant": tenant, "alignment": a, "db": db}


def put_plan(client, tenant, body: dict, period: str = "P30", role: str = "planner", headers=None):
    headers = auth_headers(tenant_of(tenant), role) | (headers or {})
    return client.put(f"/metrics/v1/sales-forces/field/quota-plans/{period}", json=body, headers=headers)


def plan_events(setup) -> list[dict]:
    rows = fetch_all(setup["db"], "SELECT payload FROM outbox WHERE event_type = :t ORDER BY seq", t=PLAN_CHANGED)
    events = [json.loads(bytes(r["payload"])) for r in rows]
    return [e for e in events if e["tenantid"] == tenant_of(setup["tenant"])]


def test_a_blend_splits_the_goal_as_computed_by_hand_rolls_up_and_gives_reps_their_primary_leaves(client, setup):
    tenant = setup["tenant"]
    r = put_plan(client, tenant, PLAN)
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["updated_by"] == "test-planner" and plan["version"] == 1 and r.headers["etag"] == '"1"'
    assert plan["alignment_id"] == setup["alignment"]
    assert plan["segments"] == [
        {"alignment_id": setup["alignment"], "starts_on": STARTS.isoformat(), "ends_on": None, "days": 30}
    ]
    told = plan_events(setup)
    assert [e["data"]["version"] for e in told] == [1]
    assert told[0]["subject"] == "field/P30" and told[0]["data"]["updated_by"] == "test-planner"
    assert told[0]["data"]["adjustments"] == {"T1": 20_000, "T3": -20_000}

    sheet = quotas(client, tenant)
    rows = by_code(sheet)
    # Totals over the leaves: potential 1000 + 3000 + 1000 = 5000; revenue 400k + 200k + 400k = 1M; w = 0.4.
    # T1: 0.4 x 1000/5000 + 0.6 x 400k/1M = 0.08 + 0.24 = 0.32 -> base 320,000, + 20,000 = 340,000
    # T2: 0.4 x 3000/5000 + 0.6 x 200k/1M = 0.24 + 0.12 = 0.36 -> base 360,000
    # T3: 0.4 x 1000/5000 + 0.6 x 400k/1M = 0.08 + 0.24 = 0.32 -> base 320,000, - 20,000 = 300,000
    # EAST = T1 + T2 = 700,000; EAST + T3 = the goal.
    assert rows["T1"]["share"] == pytest.approx(0.32) and rows["T1"]["base_quota"] == pytest.approx(320_000)
    assert rows["T1"]["adjustment"] == 20_000 and rows["T1"]["quota"] == pytest.approx(340_000)
    assert rows["T2"]["share"] == pytest.approx(0.36) and rows["T2"]["quota"] == pytest.approx(360_000)
    assert rows["T3"]["base_quota"] == pytest.approx(320_000) and rows["T3"]["quota"] == pytest.approx(300_000)
    assert rows["EAST"]["quota"] == pytest.approx(700_000) and not rows["EAST"]["is_leaf"]
    assert rows["EAST"]["potential"] == 4000 and rows["EAST"]["revenue"] == 600_000
    assert rows["T1"]["parent_code"] == "EAST" and rows["T3"]["parent_code"] is None
    assert [t["territory_code"] for t in sheet["territories"]] == ["EAST", "T1", "T2", "T3"]
    # Attainment: the revenue of the accounts each territory owns over its quota.
    assert rows["T1"]["attainment"] == pytest.approx(400_000 / 340_000)
    assert rows["T2"]["attainment"] == pytest.approx(200_000 / 360_000)
    assert rows["EAST"]["attainment"] == pytest.approx(600_000 / 700_000)
    # r1 holds T1 as primary; r2 holds T2 and T3; r3, T1's secondary rep, carries no quota.
    reps = by_rep(sheet)
    assert set(reps) == {"r1", "r2"}
    assert reps["r1"]["quota"] == pytest.approx(340_000) and reps["r1"]["territory_codes"] == ["T1"]
    assert reps["r2"]["quota"] == pytest.approx(660_000) and reps["r2"]["territory_codes"] == ["T2", "T3"]
    assert reps["r2"]["rep_external_id"] == "EXT-r2" and reps["r2"]["name"] == "Rep r2"
    assert sheet["unassigned_quota"] == pytest.approx(0) and sheet["unapplied_adjustments"] == {}
    listed = metrics(client, "/v1/sales-forces/field/quota-plans", tenant)
    assert [p["period"] for p in listed] == ["P30"]


def test_adjustments_that_break_the_total_or_name_no_leaf_are_refused_and_change_nothing(client, setup):
    tenant = setup["tenant"]
    before = metrics(client, "/v1/sales-forces/field/quota-plans/P30", tenant)
    events = len(plan_events(setup))
    r = put_plan(client, tenant, PLAN | {"goal": 2_000_000, "adjustments": {"T1": 20_000, "T2": -10_000}})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["errors"][0]["field"] == "adjustments" and problem["off_by"] == pytest.approx(10_000)
    assert "10000" in problem["detail"]
    r = put_plan(client, tenant, PLAN | {"adjustments": {"EAST": 5_000, "T3": -5_000}})
    assert r.status_code == 422 and r.json()["codes"] == ["EAST"]
    r = put_plan(client, tenant, PLAN | {"adjustments": {"T9": 5_000, "T3": -5_000}})
    assert r.status_code == 422 and r.json()["codes"] == ["T9"]
    r = put_plan(client, tenant, PLAN | {"adjustments": {"T1": 500_000, "T3": -500_000}})
    assert r.status_code == 422 and r.json()["codes"] == ["T3"]  # a negative quota
    r = put_plan(client, tenant, PLAN | {"method": "blend", "potential_weight": None})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "potential_weight"
    r = put_plan(client, tenant, PLAN | {"ends_on": (STARTS - timedelta(days=1)).isoformat()})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "ends_on"
    assert put_plan(client, tenant, PLAN, role="manager").status_code == 403
    assert put_plan(client, tenant, PLAN, headers={"If-Match": '"7"'}).status_code == 412
    assert metrics(client, "/v1/sales-forces/field/quota-plans/P30", tenant) == before
    assert len(plan_events(setup)) == events


def test_the_csv_has_one_row_per_territory_or_per_rep_as_the_json_says(client, setup):
    tenant = setup["tenant"]
    sheet = quotas(client, tenant)
    r = client.get("/metrics/v1/sales-forces/field/quota-plans/P30/quotas.csv", headers=tenant)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [x["territory_code"] for x in rows] == [t["territory_code"] for t in sheet["territories"]]
    for row, t in zip(rows, sheet["territories"], strict=True):
        assert float(row["quota"]) == pytest.approx(t["quota"], abs=0.005)
        assert row["parent_code"] == (t["parent_code"] or "")
    t1 = next(x for x in rows if x["territory_code"] == "T1")
    assert t1 == t1 | {"quota": "340000.00", "adjustment": "20000.00", "share": "0.320000", "primary_rep_id": "r1"}
    r = client.get("/metrics/v1/sales-forces/field/quota-plans/P30/quotas.csv", headers=tenant, params={"rows": "reps"})
    reps = {x["rep_id"]: x for x in csv.DictReader(io.StringIO(r.text))}
    assert reps["r2"]["quota"] == "660000.00" and reps["r2"]["territory_codes"] == "T2 T3"
    assert reps["r2"]["rep_name"] == "Rep r2"


def test_a_realignment_today_changes_the_quotas_as_the_draft_preview_said_and_keeps_the_past_part(client, setup):
    tenant, a = setup["tenant"], setup["alignment"]
    # A plan for a period that has not begun: a realignment before it starts simply replaces the allocation.
    next_start, next_end = ENDS + timedelta(days=1), ENDS + timedelta(days=90)
    later = PLAN | {"starts_on": next_start.isoformat(), "ends_on": next_end.isoformat()}
    assert put_plan(client, tenant, later, period="NEXT").status_code == 201
    b = geo(client, "POST", "/v1/alignments", tenant, json={"name": "B", "sales_force": "field", "copy_from": a})
    b = b.json()["id"]
    caught_up(client, tenant, b)
    b_rows = metrics(client, f"/v1/alignments/{b}/metrics", tenant)["territories"]
    b_t1 = next(x["territory_id"] for x in b_rows if x["code"] == "T1")
    move(client, tenant, b, [MECKLENBURG], b_t1)  # Charlotte's county joins Raleigh's territory
    caught_up(client, tenant, b)

    preview = quotas(client, tenant, alignment_id=b)
    rows = by_code(preview)
    # In B, T1 holds potential 4000 and revenue 600k; T2 holds nothing; T3 is as before.
    # T1: 0.4 x 4000/5000 + 0.6 x 600k/1M = 0.32 + 0.36 = 0.68 -> 680,000 + 20,000 = 700,000 for a whole period.
    # Published today, A stays in effect for the period's first 10 of 30 days, B for the last 20:
    # T1: 340,000 x 10/30 + 700,000 x 20/30 = 113,333.33 + 466,666.67 = 580,000
    # T2: 360,000 x 10/30 + 0 = 120,000;  T3: 300,000 x 10/30 + 300,000 x 20/30 = 300,000
    assert rows["T1"]["allocation"] == pytest.approx(700_000) and rows["T1"]["quota"] == pytest.approx(580_000)
    assert rows["T2"]["allocation"] == pytest.approx(0) and rows["T2"]["quota"] == pytest.approx(120_000)
    assert rows["T3"]["quota"] == pytest.approx(300_000) and rows["EAST"]["quota"] == pytest.approx(700_000)
    assert [(s["alignment_id"], s["days"], s["state"]) for s in preview["segments"]] == [
        (a, 10, "open"),
        (b, 20, "preview"),
    ]
    # r1 (T1): 580,000; r2: T2 and T3 for 10 days (660,000 x 10/30 = 220,000), then T3 (300,000 x 20/30 = 200,000).
    assert by_rep(preview)["r1"]["quota"] == pytest.approx(580_000)
    assert by_rep(preview)["r2"]["quota"] == pytest.approx(420_000)
    assert by_code(quotas(client, tenant, "NEXT", alignment_id=b))["T1"]["quota"] == pytest.approx(700_000)

    compare = metrics(client, "/v1/sales-forces/field/quota-plans/P30/quotas/compare", tenant, alignment_id=b)
    assert compare["before_alignment_id"] == a and compare["after_alignment_id"] == b
    changes = {x["territory_code"]: x for x in compare["territories"]}
    assert changes["T1"] == changes["T1"] | {"before": pytest.approx(340_000), "after": pytest.approx(580_000)}
    assert changes["T1"]["change"] == pytest.approx(240_000) and changes["T2"]["change"] == pytest.approx(-240_000)
    assert changes["T3"]["change"] == pytest.approx(0)
    rep_changes = {x["rep_id"]: x for x in compare["reps"]}
    assert rep_changes["r2"]["before"] == pytest.approx(660_000)
    assert rep_changes["r2"]["change"] == pytest.approx(-240_000) and rep_changes["r2"]["name"] == "Rep r2"
    # Nothing changed by looking.
    assert quotas(client, tenant)["alignment_id"] == a

    publish(client, tenant, b)
    after = eventually(lambda: (s := quotas(client, tenant))["alignment_id"] == b and s, 60, "B in effect")

    def figures(sheet: dict) -> dict:
        return {
            "territories": {
                t["territory_code"]: [pytest.approx(t[k]) for k in ("share", "base_quota", "adjustment", "quota")]
                for t in sheet["territories"]
            },
            "reps": {r["rep_id"]: (r["territory_codes"], pytest.approx(r["quota"])) for r in sheet["reps"]},
        }

    assert figures(after) == figures(preview)
    plan = metrics(client, "/v1/sales-forces/field/quota-plans/P30", tenant)
    assert plan["segments"] == [
        {"alignment_id": a, "starts_on": STARTS.isoformat(), "ends_on": YESTERDAY.isoformat(), "days": 10},
        {"alignment_id": b, "starts_on": TODAY.isoformat(), "ends_on": None, "days": 20},
    ]
    later_plan = metrics(client, "/v1/sales-forces/field/quota-plans/NEXT", tenant)
    assert [(s["alignment_id"], s["starts_on"]) for s in later_plan["segments"]] == [(b, later["starts_on"])]

    # Charlotte's potential grows to 8000: B's part follows, A's part keeps the figures of its last day.
    upsert_account(client, tenant_of(tenant), "charlotte", CHARLOTTE, 8000.0, 200_000.0, version=2)
    # B: T1 potential 9000 of 10000: 0.4 x 0.9 + 0.6 x 0.6 = 0.72 -> 740,000; T3: 0.04 + 0.24 = 0.28 -> 260,000.
    # T1: 113,333.33 + 740,000 x 20/30 = 606,666.67; T2 still 120,000; T3: 100,000 + 173,333.33 = 273,333.33.
    grown = eventually(
        lambda: (s := by_code(quotas(client, tenant)))["T1"]["potential"] == 9000 and s, 60, "the new potential"
    )
    assert grown["T1"]["quota"] == pytest.approx(606_666.6667)
    assert grown["T2"]["quota"] == pytest.approx(120_000)
    assert grown["T3"]["quota"] == pytest.approx(273_333.3333)
    assert grown["EAST"]["quota"] + grown["T3"]["quota"] == pytest.approx(1_000_000)


def test_quotas_of_an_unknown_plan_or_an_alignment_of_another_sales_force_are_refused(client, setup):
    tenant = setup["tenant"]
    r = client.get("/metrics/v1/sales-forces/field/quota-plans/NOPE/quotas", headers=tenant)
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    r = client.get(
        "/metrics/v1/sales-forces/field/quota-plans/P30/quotas", headers=tenant, params={"alignment_id": "nope"}
    )
    assert r.status_code == 404
    r = client.get("/metrics/v1/sales-forces/other/quota-plans/P30", headers=tenant)
    assert r.status_code == 404
