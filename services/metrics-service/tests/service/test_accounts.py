"""Accounts, reps and rosters from assignment-service's events, over real NC counties."""

from __future__ import annotations

import json
import uuid
from datetime import date

import numpy as np
import pytest
from territory_shared.events.assignment import (
    AccountReassignedV1,
    AccountUpsertedV1,
    RepUpsertedV1,
    RosterChangedV1,
    RosterEntry,
)
from territory_shared.events.envelope import new_event
from territory_shared.messaging.bus import OutgoingMessage

from tests.support.auth import auth_headers, tenant_of
from tests.support.databases import fetch_all

from .conftest import eventually, nc_zip
from .test_nc_metrics import WAKE, caught_up, geo, metrics, move, territory

pytestmark = pytest.mark.postgis

OUT_OF_BALANCE = "metrics.territory.out_of_balance_detected.v1"

RALEIGH = (-78.6382, 35.7796)
CHARLOTTE = (-80.8431, 35.2271)  # Mecklenburg, 37119
ASHEVILLE = (-82.5515, 35.5951)  # Buncombe, 37021


def send(client, tenant: str, topic: str, event_type: str, subject: str, data) -> None:
    e = new_event(source="/assignment-service", type=event_type, subject=subject, tenant_id=tenant, data=data)
    client.portal.call(client.app.state.bus.publisher().publish, [OutgoingMessage(topic, subject, e.to_bytes())])


def account(client, tenant, lonlat, potential, workload, version=1, account_id=None) -> str:
    account_id = account_id or str(uuid.uuid4())
    data = AccountUpsertedV1(
        account_id=account_id,
        external_id=f"ACC-{account_id[:6]}",
        version=version,
        lon=lonlat[0],
        lat=lonlat[1],
        location_precision="exact",
        potential=potential,
        revenue=potential / 4,
        visits_per_year=4,
        workload_hours=workload,
    )
    send(client, tenant, "assignment.account", "assignment.account.upserted.v1", account_id, data)
    return account_id


@pytest.fixture(scope="module")
def setup(client, tmp_path_factory):
    tenant = auth_headers(f"acc-{uuid.uuid4().hex[:6]}")
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
    a = geo(client, "POST", "/v1/alignments", tenant, json={"name": "a", "sales_force": "field", "layer_id": layer_id})
    a = a.json()["id"]
    east, west = territory(client, tenant, a, "EAST"), territory(client, tenant, a, "WEST")
    move(client, tenant, a, [WAKE, "37119"], east)  # Wake (Raleigh) and Mecklenburg (Charlotte)
    move(client, tenant, a, ["37021"], west)  # Buncombe (Asheville)
    caught_up(client, tenant, a)
    t = tenant_of(tenant)
    # r-east's version 1 comes after its version 2 (a redelivery, a replay): it changes nothing.
    for rep, home, capacity, version in (
        ("r-east", RALEIGH, 100.0, 2),
        ("r-west", ASHEVILLE, 100.0, 1),
        ("r-east", RALEIGH, 5000.0, 1),
    ):
        send(
            client,
            t,
            "assignment.rep",
            "assignment.rep.upserted.v1",
            rep,
            RepUpsertedV1(
                rep_id=rep,
                external_id=rep,
                version=version,
                name=rep,
                capacity_hours=capacity,
                role="rep",
                active=True,
                home_lon=home[0],
                home_lat=home[1],
            ),
        )
    accounts = {
        "raleigh": account(client, t, RALEIGH, 1000.0, 10.0),
        "charlotte": account(client, t, CHARLOTTE, 3000.0, 30.0),
        "asheville": account(client, t, ASHEVILLE, 500.0, 5.0),
    }
    for code, rep in (("EAST", "r-east"), ("WEST", "r-west")):
        entry = RosterEntry(
            entry_id=f"{code}-1", rep_id=rep, rep_external_id=rep, role="primary", effective_from=date(2020, 1, 1)
        )
        send(
            client,
            t,
            "assignment.roster",
            "assignment.roster.changed.v1",
            f"field/{code}",
            RosterChangedV1(sales_force="field", territory_code=code, entries=[entry]),
        )
    for key, code, rep, unit in (
        ("raleigh", "EAST", "r-east", WAKE),
        ("charlotte", "EAST", "r-east", "37119"),
        ("asheville", "WEST", "r-west", "37021"),
    ):
        send(
            client,
            t,
            "assignment.account",
            "assignment.account.reassigned.v1",
            accounts[key],
            AccountReassignedV1(
                account_id=accounts[key],
                external_id=key,
                sales_force="field",
                from_territory_code=None,
                to_territory_code=code,
                from_rep_id=None,
                to_rep_id=rep,
                cause="geography",
                trigger="realignment",
                unit_id=unit,
                by_geography=True,
            ),
        )
    # A stale copy of the Raleigh account (version 1 again, other numbers) changes nothing.
    account(client, t, RALEIGH, 99999.0, 999.0, version=1, account_id=accounts["raleigh"])
    return {"tenant": tenant, "alignment": a, "east": east, "west": west, "accounts": accounts}


def rows(client, setup) -> dict[str, dict]:
    body = metrics(client, f"/v1/alignments/{setup['alignment']}/metrics", setup["tenant"])
    return {t["code"]: t for t in body["territories"]}


def test_accounts_count_in_the_territory_of_their_unit_with_reps_capacity_and_travel(client, setup):
    eventually(
        lambda: (
            rows(client, setup)["EAST"]["values"].get("account_count") == 2 and rows(client, setup)["EAST"]["reps"] == 1
        ),
        30,
        "accounts",
    )
    east, west = rows(client, setup)["EAST"], rows(client, setup)["WEST"]
    assert east["values"]["account_potential"] == 4000 and east["values"]["workload_hours"] == 40
    assert east["values"]["account_revenue"] == 1000 and east["values"]["visits"] == 8
    assert west["values"]["account_count"] == 1 and west["values"]["account_potential"] == 500
    assert east["capacity_hours"] == 100 and east["utilization"] == pytest.approx(0.40)
    # Travel from Raleigh: to Wake's centroid (near) and Mecklenburg's (about 210 km), weighted 1000 : 3000.
    assert 150 < east["travel_mean_km"] < east["travel_max_km"] < 260


def test_a_draft_copy_sees_the_accounts_and_disruption_counts_them(client, setup):
    tenant, a = setup["tenant"], setup["alignment"]
    rows(client, setup)
    b = geo(client, "POST", "/v1/alignments", tenant, json={"name": "b", "sales_force": "field", "copy_from": a})
    b = b.json()["id"]
    caught_up(client, tenant, b)
    west_b = next(
        t["territory_id"]
        for t in metrics(client, f"/v1/alignments/{b}/metrics", tenant)["territories"]
        if t["code"] == "WEST"
    )
    move(client, tenant, b, ["37119"], west_b)  # Charlotte's county to the west
    caught_up(client, tenant, b)
    d = metrics(client, "/v1/compare", tenant, a=a, b=b)["disruption"]
    assert d["account_share"] == pytest.approx(1 / 3) and d["potential_share"] == pytest.approx(3000 / 4500)
    assert d["potential_basis"] == "account_potential"
    assert d["account_share_territory_or_rep"] == pytest.approx(1 / 3)


def test_accounts_that_unbalance_an_active_alignment_are_told_once(client, setup):
    tenant, a = setup["tenant"], setup["alignment"]
    version = geo(client, "GET", f"/v1/alignments/{a}", tenant).json()["version"]
    geo(client, "POST", f"/v1/alignments/{a}/publish", tenant, headers={"If-Match": f'"{version}"'})
    db = client.app.state.metrics.state.runtime.settings.database_url

    def told_events() -> list[dict]:
        rows_ = fetch_all(db, "SELECT payload FROM outbox WHERE event_type = :t ORDER BY seq", t=OUT_OF_BALANCE)
        events = [json.loads(bytes(r["payload"])) for r in rows_]
        return [e for e in events if e["data"]["alignment_id"] == a and e["data"]["metric"] == "account_potential"]

    def told() -> list[dict]:
        return [e["data"] for e in told_events()]

    # At publish: EAST 4000, WEST 500 against a mean of 2250: both out of the 10 % band.
    eventually(lambda: len(told()) == 2, 30, "both territories told at publish")
    # Asheville grows to balance: both come back within the band, so nothing more is told ...
    account(client, tenant_of(tenant), ASHEVILLE, 4000.0, 5.0, version=2, account_id=setup["accounts"]["asheville"])
    flagged = (
        "SELECT count(*) AS n FROM balance_flag"
        " WHERE alignment_id = :a AND out_of_balance = :t AND metric = 'account_potential'"
    )
    eventually(lambda: fetch_all(db, flagged, a=a, t=True)[0]["n"] == 0, 30, "back in balance")

    def alerts(state: str) -> list[dict]:
        page = metrics(client, "/v1/alerts", tenant, state=state, metric="account_potential")
        return [x for x in page["items"] if x["alignment_id"] == a]

    # Listed over HTTP: the two alerts of the publish are past now, each with when it was resolved.
    assert alerts("current") == []
    past = alerts("past")
    assert sorted(x["territory_code"] for x in past) == ["EAST", "WEST"] and all(x["resolved_at"] for x in past)
    assert {x["id"] for x in past} == {e["id"] for e in told_events()[:2]}
    # ... until it drifts out again, and that is told once more.
    account(client, tenant_of(tenant), ASHEVILLE, 100.0, 5.0, version=3, account_id=setup["accounts"]["asheville"])
    eventually(lambda: len(told()) == 4, 30, "drift told again")
    assert {d["territory_code"] for d in told()[2:]} == {"EAST", "WEST"}
    assert np.isclose(told()[-1]["tolerance_pct"], 10.0)
    current = alerts("current")
    assert sorted(x["territory_code"] for x in current) == ["EAST", "WEST"]
    assert all(x["current"] and x["resolved_at"] is None and x["sales_force"] == "field" for x in current)
    assert len(alerts("all")) == 4
