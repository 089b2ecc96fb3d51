"""Roster entries take effect on their dates: a pass of the roster-dates worker applies each start and end once,
on its day or at the first pass after it; and who owned an account at a past moment, from its history."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from assignment_service.workers.roster_dates import RosterDates

from tests.support.auth import tenant_of

from .conftest import upsert
from .geography import (
    CHARLOTTE,
    DURHAM,
    DURHAM_CITY,
    MECKLENBURG,
    RALEIGH,
    WAKE,
    draft,
    import_nc,
    outbox_events,
    publish,
)

pytestmark = pytest.mark.postgis

TODAY = datetime.now(UTC).date()


def day(n: int) -> date:
    return TODAY + timedelta(days=n)


@pytest.fixture
def nc(client, tenant, tmp_path):
    """EAST (Wake, Durham) with ana as its primary rep from today, WEST (Mecklenburg) with no rep; three accounts."""
    layer = import_nc(client, tenant, tmp_path)
    publish(client, tenant, draft(client, tenant, layer, {"EAST": [WAKE, DURHAM], "WEST": [MECKLENBURG]}))
    rows = [
        {"external_id": "raleigh", "lat": RALEIGH[1], "lon": RALEIGH[0], "potential": 10},
        {"external_id": "durham", "lat": DURHAM_CITY[1], "lon": DURHAM_CITY[0], "potential": 20},
        {"external_id": "charlotte", "lat": CHARLOTTE[1], "lon": CHARLOTTE[0], "potential": 30},
    ]
    assert upsert(client, tenant, rows).status_code == 200
    reps = {}
    for ext in ("ana", "bo"):
        r = client.put(f"/v1/reps/{ext}", json={"name": ext}, headers=tenant)
        assert r.status_code == 201, r.text
        reps[ext] = r.json()["id"]
    ana = entry(client, tenant, "ana", "EAST")
    return tenant, reps, ana


def entry(client, tenant, rep: str, code: str, **dates: date) -> dict:
    body = {"sales_force": "field", "territory_code": code, "rep_external_id": rep}
    r = client.post("/v1/roster-entries", json=body | {k: str(v) for k, v in dates.items()}, headers=tenant)
    assert r.status_code == 201, r.text
    return r.json()


def end(client, tenant, entry_id: str, on: date) -> dict:
    r = client.post(f"/v1/roster-entries/{entry_id}/end", params={"on": str(on)}, headers=tenant)
    assert r.status_code == 200, r.text
    return r.json()


def owner_reps(client, tenant) -> dict[str, tuple[str | None, str | None]]:
    items = client.get("/v1/sales-forces/field/assignments", headers=tenant).json()["items"]
    return {i["external_id"]: (i["territory_code"], i["rep_id"]) for i in items}


def roster_pass(client, today: date) -> int:
    """One pass of the worker the service runs, as if today were ``today``."""
    worker: RosterDates = client.app.state.assignment.state.roster_dates
    return client.portal.call(worker.apply_once, today)


def roster_history(client, tenant, account: str) -> list[dict]:
    return [h for h in client.get(f"/v1/accounts/{account}/history", headers=tenant).json() if h["trigger"] == "roster"]


def told(client, tenant, event_type: str) -> list[dict]:
    return [e["data"] for e in outbox_events(client, event_type) if e["tenantid"] == tenant_of(tenant)]


def test_a_roster_change_dated_tomorrow_changes_nothing_today_and_is_applied_once_on_its_day(client, nc):
    tenant, reps, ana = nc
    end(client, tenant, ana["id"], day(1))
    bo = entry(client, tenant, "bo", "EAST", effective_from=day(1))
    before = owner_reps(client, tenant)
    assert before["raleigh"] == before["durham"] == ("EAST", reps["ana"])
    rosters_told = len(told(client, tenant, "assignment.roster.changed.v1"))

    assert roster_pass(client, TODAY) == 0
    assert owner_reps(client, tenant) == before

    assert roster_pass(client, day(1)) == 1  # ana's end and bo's start: one territory recomputed
    after = owner_reps(client, tenant)
    assert after == before | {"raleigh": ("EAST", reps["bo"]), "durham": ("EAST", reps["bo"])}
    moved = roster_history(client, tenant, "durham")[-1]
    assert (moved["from_rep_id"], moved["to_rep_id"], moved["changed_by"]) == (reps["ana"], reps["bo"], "system")
    events = [e for e in told(client, tenant, "assignment.account.reassigned.v1") if e["to_rep_id"] == reps["bo"]]
    assert sorted((e["external_id"], e["trigger"], e["from_rep_id"]) for e in events) == [
        ("durham", "roster", reps["ana"]),
        ("raleigh", "roster", reps["ana"]),
    ]

    # Applied once: later passes, the worker running in the service included, change nothing more.
    assert roster_pass(client, day(1)) == 0
    assert roster_pass(client, day(3)) == 0
    assert len(roster_history(client, tenant, "durham")) == 2  # ana's entry added today, then bo's day
    assert (
        len([e for e in told(client, tenant, "assignment.account.reassigned.v1") if e["to_rep_id"] == reps["bo"]]) == 2
    )
    # Every dated entry was told when written: a day coming tells no roster again.
    assert len(told(client, tenant, "assignment.roster.changed.v1")) == rosters_told
    listed = {e["id"]: e for e in client.get("/v1/roster-entries?territory_code=EAST", headers=tenant).json()}
    assert listed[bo["id"]]["effective_from"] == str(day(1)) and listed[ana["id"]]["effective_to"] == str(day(1))


def test_an_ended_entry_leaves_the_territory_without_a_rep_until_the_next_one_starts(client, nc):
    tenant, reps, ana = nc
    end(client, tenant, ana["id"], day(1))
    entry(client, tenant, "bo", "EAST", effective_from=day(2))

    assert roster_pass(client, day(1)) == 1
    # As a recompute on that day would: the territory stays, by geography, with no primary rep.
    assert owner_reps(client, tenant)["durham"] == ("EAST", None)
    assert client.get("/v1/sales-forces/field/owner?account=durham", headers=tenant).json()["cause"] == "geography"

    assert roster_pass(client, day(2)) == 1
    assert owner_reps(client, tenant)["durham"] == ("EAST", reps["bo"])
    assert [h["to_rep_id"] for h in roster_history(client, tenant, "durham")] == [reps["ana"], None, reps["bo"]]


def test_a_worker_that_was_down_applies_every_date_that_came_meanwhile_in_one_change(client, nc):
    tenant, reps, ana = nc
    end(client, tenant, ana["id"], day(1))
    entry(client, tenant, "bo", "EAST", effective_from=day(2), effective_to=day(4))
    entry(client, tenant, "ana", "EAST", effective_from=day(4))
    entry(client, tenant, "bo", "WEST", effective_from=day(3))

    assert roster_pass(client, day(5)) == 2  # EAST and WEST, each once
    now = owner_reps(client, tenant)
    assert now["durham"] == ("EAST", reps["ana"]) and now["charlotte"] == ("WEST", reps["bo"])
    # EAST went from ana to ana: nothing told; WEST's account went to bo once.
    assert [h["to_rep_id"] for h in roster_history(client, tenant, "durham")] == [reps["ana"]]
    assert [h["to_rep_id"] for h in roster_history(client, tenant, "charlotte")] == [reps["bo"]]
    assert roster_pass(client, day(5)) == 0


def test_a_secondary_rep_starting_recomputes_nothing_and_is_marked_applied(client, nc):
    tenant, reps, _ = nc
    body = {"sales_force": "field", "territory_code": "EAST", "rep_external_id": "bo", "role": "secondary"}
    r = client.post("/v1/roster-entries", json=body | {"effective_from": str(day(1))}, headers=tenant)
    assert r.status_code == 201, r.text
    before = owner_reps(client, tenant)
    assert roster_pass(client, day(1)) == 1
    assert owner_reps(client, tenant) == before
    assert roster_pass(client, day(1)) == 0


def test_two_passes_at_the_same_moment_apply_a_date_once(client, nc):
    tenant, reps, ana = nc
    end(client, tenant, ana["id"], day(1))
    entry(client, tenant, "bo", "EAST", effective_from=day(1))
    runtime = client.app.state.assignment.state.runtime
    workers = [RosterDates(runtime.sessions, runtime.outbox_written) for _ in range(2)]

    async def together() -> list[int]:
        return list(await asyncio.gather(*(w.apply_once(day(1)) for w in workers)))

    assert sorted(client.portal.call(together)) == [0, 1]
    assert owner_reps(client, tenant)["durham"] == ("EAST", reps["bo"])
    assert [h["to_rep_id"] for h in roster_history(client, tenant, "durham")] == [reps["ana"], reps["bo"]]
    events = [e for e in told(client, tenant, "assignment.account.reassigned.v1") if e["to_rep_id"] == reps["bo"]]
    assert sorted(e["external_id"] for e in events) == ["durham", "raleigh"]


def test_the_owner_of_an_account_at_a_past_moment_comes_from_its_history(client, nc):
    tenant, reps, ana = nc
    end(client, tenant, ana["id"], day(1))
    entry(client, tenant, "bo", "EAST", effective_from=day(1))
    roster_pass(client, day(1))
    history = client.get("/v1/accounts/durham/history", headers=tenant).json()
    first, with_ana, with_bo = history  # assigned with no rep, ana's entry, bo's day

    def owner_on(on: str, account: str = "durham"):  # type: ignore[no-untyped-def]
        return client.get("/v1/sales-forces/field/owner", params={"account": account, "on": on}, headers=tenant)

    at_ana = owner_on(with_ana["changed_at"]).json()
    assert (at_ana["territory_code"], at_ana["rep_id"], at_ana["rep_external_id"]) == ("EAST", reps["ana"], "ana")
    assert (
        at_ana["cause"] == "geography" and at_ana["trigger"] == "roster" and at_ana["since"] == with_ana["changed_at"]
    )
    assert at_ana["changed_by"] == "test-admin"
    # The same moment written with another offset is the same moment.
    moment = datetime.fromisoformat(with_ana["changed_at"])
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite keeps UTC without its offset
    elsewhere = moment.astimezone(timezone(timedelta(hours=-5))).isoformat()
    assert owner_on(elsewhere).json()["rep_id"] == reps["ana"]
    just_before = (moment - timedelta(microseconds=1)).isoformat()
    assert owner_on(just_before).json()["rep_id"] is None  # placed by geography before ana joined
    assert owner_on(datetime.now(UTC).isoformat()).json()["rep_id"] == reps["bo"]
    assert owner_on(str(TODAY)).json()["rep_id"] == reps["bo"]  # a day: how it ended, or now for today
    assert owner_on(str(day(-1))).status_code == 404  # no owner yet: the account came today
    assert owner_on(first["changed_at"]).json()["territory_code"] == "EAST"

    for bad, reason in (("2026-13-01", "date"), (str(day(2)), "future"), ("soon", "date")):
        r = owner_on(bad)
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", r.text
        assert r.json()["field"] == "on" and reason in r.json()["detail"]
    r = client.get("/v1/sales-forces/field/owner", params={"zip": "27701", "on": str(TODAY)}, headers=tenant)
    assert r.status_code == 422 and r.json()["field"] == "on"
    assert owner_on(str(TODAY), account="nobody").status_code == 404
