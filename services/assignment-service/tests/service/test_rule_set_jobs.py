"""Saving a rule set answers at once (202) and a job applies it, with progress; the latest version always wins."""

from __future__ import annotations

import pytest
from assignment_service.api import rules as rules_api
from assignment_service.db.unit_of_work import UnitOfWork
from assignment_service.use_cases import apply_rule_set as apply_module
from assignment_service.use_cases.apply_rule_set import apply_rule_set
from territory_shared.jobs import Progress

from tests.support.auth import tenant_of

from .conftest import save_rule_set, upsert, wait_for_job
from .geography import CHARLOTTE, DURHAM, MECKLENBURG, RALEIGH, WAKE, draft, import_nc, owners, publish

pytestmark = pytest.mark.postgis

HEALTHCARE_TO_HC = {
    "rules": [{"name": "hc", "precedence": 1, "condition": "industry = healthcare", "territory_code": "HC"}]
}
RETAIL_TO_RT = {"rules": [{"name": "rt", "precedence": 1, "condition": "industry = retail", "territory_code": "RT"}]}


@pytest.fixture
def nc(client, tenant, tmp_path):
    layer = import_nc(client, tenant, tmp_path)
    territories = {"EAST": [WAKE, DURHAM], "WEST": [MECKLENBURG], "HC": [], "RT": []}  # HC, RT: account-based
    publish(client, tenant, draft(client, tenant, layer, territories))
    rows = [
        {"external_id": f"hc{i}", "lat": RALEIGH[1], "lon": RALEIGH[0], "industry": "healthcare"} for i in range(3)
    ] + [{"external_id": f"rt{i}", "lat": CHARLOTTE[1], "lon": CHARLOTTE[0], "industry": "retail"} for i in range(3)]
    assert upsert(client, tenant, rows).status_code == 200
    return tenant


def test_a_save_answers_202_with_the_stored_version_and_a_job_that_reports_progress_and_assigns(
    client, nc, monkeypatch
):
    tenant = nc
    monkeypatch.setattr(apply_module, "PAGE", 2)  # three pages of two accounts: three progress reports
    reports: list[tuple[str, float]] = []

    async def recording(uow, tenant_id, sales_force, version, progress):  # type: ignore[no-untyped-def]
        async def report(stage, percent, message, details):  # type: ignore[no-untyped-def]
            reports.append((stage, percent))
            await progress(stage, percent, message, details)

        return await apply_rule_set(uow, tenant_id, sales_force, version, Progress(report, progress.cancel_requested))

    monkeypatch.setattr(rules_api, "apply_rule_set", recording)
    r = client.put("/v1/sales-forces/field/rule-set", json=HEALTHCARE_TO_HC, headers=tenant)
    assert r.status_code == 202, r.text
    saved = r.json()
    assert (saved["version"], saved["rules"][0]["territory_code"], r.headers["etag"]) == (1, "HC", '"1"')
    assert saved["job"]["status"] == "queued" and r.headers["location"] == saved["job"]["location"]
    assert client.get(saved["job"]["location"], headers=tenant).json()["id"] == saved["job"]["id"]
    assert client.get("/v1/sales-forces/field/rule-set", headers=tenant).json()["version"] == 1
    job = wait_for_job(client, tenant, "", saved["job"]["id"])
    assert (job["status"], job["kind"], job["stage"], job["percent"]) == ("succeeded", "rule-set", "done", 100.0)
    assert job["result"] == {
        "sales_force": "field",
        "rule_set_version": 1,
        "superseded_by_version": None,
        "accounts": 6,
        "accounts_moved": 3,
        "assigned": 6,
        "unassigned": 0,
    }
    assert [stage for stage, _ in reports] == ["assigning"] * 4
    assert [round(p) for _, p in reports] == [0, 33, 66, 99]
    now = owners(client, tenant)
    assert {now[f"hc{i}"][0::2] for i in range(3)} == {("HC", "rule")}
    assert {now[f"rt{i}"][0::2] for i in range(3)} == {("WEST", "geography")}


def test_two_quick_saves_end_with_every_account_assigned_by_the_latest(client, nc, monkeypatch):
    tenant = nc
    monkeypatch.setattr(apply_module, "PAGE", 1)
    first = client.put("/v1/sales-forces/field/rule-set", json=HEALTHCARE_TO_HC, headers=tenant)
    second = client.put("/v1/sales-forces/field/rule-set", json=RETAIL_TO_RT, headers=tenant)
    assert (first.status_code, second.status_code) == (202, 202)
    jobs = [wait_for_job(client, tenant, "", r.json()["job"]["id"]) for r in (first, second)]
    assert [j["status"] for j in jobs] == ["succeeded", "succeeded"]
    # The first job either finished before the second save or stopped at its next page, superseded.
    assert jobs[0]["result"]["superseded_by_version"] in (None, 2)
    assert jobs[1]["result"]["superseded_by_version"] is None and jobs[1]["result"]["accounts"] == 6
    now = owners(client, tenant)
    assert {now[f"hc{i}"][0::2] for i in range(3)} == {("EAST", "geography")}
    assert {now[f"rt{i}"][0::2] for i in range(3)} == {("RT", "rule")}


def test_a_job_for_an_older_version_stops_superseded_and_changes_nothing(client, nc):
    tenant = nc
    save_rule_set(client, tenant, HEALTHCARE_TO_HC)
    save_rule_set(client, tenant, RETAIL_TO_RT)
    before = owners(client, tenant)
    runtime = client.app.state.assignment.state.runtime

    async def run_the_first_version_late() -> dict:
        async def report(stage, percent, message, details):  # type: ignore[no-untyped-def]
            pass

        uow = UnitOfWork(runtime.sessions, runtime.outbox_written)
        return await apply_rule_set(uow, tenant_of(tenant), "field", 1, Progress(report))

    result = client.portal.call(run_the_first_version_late)
    assert (result["superseded_by_version"], result["accounts"]) == (2, 0)
    assert owners(client, tenant) == before


def test_a_bad_rule_set_is_refused_before_any_job_and_the_saved_one_stays(client, nc):
    tenant = nc
    save_rule_set(client, tenant, HEALTHCARE_TO_HC)
    bad = {"rules": [{"name": "x", "precedence": 1, "condition": "industri = retail", "territory_code": "X"}]}
    r = client.put("/v1/sales-forces/field/rule-set", json=bad, headers=tenant)
    assert r.status_code in (400, 422) and "job" not in r.json()
    assert r.headers["content-type"] == "application/problem+json"
    assert client.get("/v1/sales-forces/field/rule-set", headers=tenant).json()["version"] == 1
    assert {owners(client, tenant)[f"hc{i}"][0] for i in range(3)} == {"HC"}
