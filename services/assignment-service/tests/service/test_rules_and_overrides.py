"""Rules with precedence, overlay sales forces, overrides that survive realignment, rule-set validation."""

from __future__ import annotations

import pytest

from .conftest import save_rule_set, upsert, wait_for_job
from .geography import (
    CHARLOTTE,
    DURHAM,
    DURHAM_CITY,
    MECKLENBURG,
    RALEIGH,
    WAKE,
    draft,
    import_nc,
    owners,
    publish,
    rep,
)

pytestmark = pytest.mark.postgis


@pytest.fixture
def nc(client, tenant, tmp_path):
    layer = import_nc(client, tenant, tmp_path)
    # HC, HC-KEY and KEY hold no units: account-based territories that rules, rosters and overrides name.
    territories = {"EAST": [WAKE, DURHAM], "WEST": [MECKLENBURG], "HC": [], "HC-KEY": [], "KEY": []}
    publish(client, tenant, draft(client, tenant, layer, territories))
    rows = [
        {"external_id": "clinic", "lat": RALEIGH[1], "lon": RALEIGH[0], "industry": "Healthcare", "size": "S"},
        {
            "external_id": "hospital",
            "lat": DURHAM_CITY[1],
            "lon": DURHAM_CITY[0],
            "industry": "healthcare",
            "size": "XL",
        },
        {"external_id": "shop", "lat": CHARLOTTE[1], "lon": CHARLOTTE[0], "industry": "retail", "size": "L"},
        {"external_id": "bank", "lat": RALEIGH[1], "lon": RALEIGH[0], "industry": "finance", "potential": 2e6},
    ]
    assert upsert(client, tenant, rows).status_code == 200
    return tenant, layer


def test_rules_apply_by_precedence_and_the_rest_falls_back_to_geography(client, nc):
    tenant, _ = nc
    key_rep = rep(client, tenant, "kim", "HC-KEY")
    body = {
        "fallback": "geography",
        "rules": [
            {"name": "hc", "precedence": 20, "condition": "industry = healthcare", "territory_code": "HC"},
            {
                "name": "hc-key",
                "precedence": 10,
                "condition": "industry = healthcare and size in (L, XL)",
                "territory_code": "HC-KEY",
            },
            {
                "name": "big",
                "precedence": 30,
                "condition": "potential >= 1e6 or custom.beds > 500",
                "territory_code": "KEY",
            },
        ],
    }
    r = client.put("/v1/sales-forces/field/rule-set", json=body, headers=tenant)
    assert r.status_code == 202, r.text
    assert r.headers["etag"] == '"1"'
    assert wait_for_job(client, tenant, "", r.json()["job"]["id"])["status"] == "succeeded"
    now = owners(client, tenant)
    assert now["hospital"] == ("HC-KEY", key_rep, "rule")
    assert now["clinic"][:1] == ("HC",) and now["clinic"][2] == "rule"
    assert now["bank"][0] == "KEY"
    assert now["shop"][0] == "WEST" and now["shop"][2] == "geography"
    stale = client.put("/v1/sales-forces/field/rule-set", json=body, headers={**tenant, "If-Match": '"0"'})
    assert stale.status_code == 412


def test_an_overlay_sales_force_assigns_only_the_accounts_its_rules_select(client, nc):
    tenant, layer = nc
    publish(client, tenant, draft(client, tenant, layer, {"HC-EAST": [WAKE, DURHAM]}, sales_force="hc-overlay"))
    body = {
        "fallback": "unassigned",
        "rules": [{"name": "hc", "precedence": 1, "condition": "industry = 'healthcare'", "geography": True}],
    }
    save_rule_set(client, tenant, body, "hc-overlay")
    now = owners(client, tenant, "hc-overlay")
    assert now["clinic"][0] == "HC-EAST" and now["hospital"][0] == "HC-EAST" and now["clinic"][2] == "rule"
    assert now["shop"][0] is None and now["bank"][0] is None
    unassigned = client.get("/v1/sales-forces/hc-overlay/assignments?unassigned=true", headers=tenant).json()
    assert {u["external_id"]: u["reason"] for u in unassigned["items"]}["shop"].startswith("no rule")
    # The field sales force is not touched by the overlay.
    assert owners(client, tenant)["clinic"][0] == "EAST"


def test_an_override_survives_a_realignment_until_it_is_removed(client, nc):
    tenant, layer = nc
    r = client.put(
        "/v1/sales-forces/field/overrides/clinic",
        json={"territory_code": "WEST", "note": "CEO's friend"},
        headers=tenant,
    )
    assert r.status_code == 200, r.text
    assert owners(client, tenant)["clinic"][0::2] == ("WEST", "override")
    # Wake moves to a new territory NORTH: the pinned clinic stays in WEST, the bank follows Wake.
    run = publish(
        client, tenant, draft(client, tenant, layer, {"NORTH": [WAKE], "EAST": [DURHAM], "WEST": [MECKLENBURG]})
    )
    now = owners(client, tenant)
    assert now["clinic"][0::2] == ("WEST", "override") and now["bank"][0] == "NORTH"
    changes = client.get(f"/v1/realignments/{run['id']}/changes", headers=tenant).json()["items"]
    assert [c["external_id"] for c in changes] == ["bank"]
    assert client.delete("/v1/sales-forces/field/overrides/clinic", headers=tenant).status_code == 204
    assert owners(client, tenant)["clinic"][0::2] == ("NORTH", "geography")
    assert client.delete("/v1/sales-forces/field/overrides/clinic", headers=tenant).status_code == 404


def test_a_rule_set_with_unknown_fields_bad_types_or_unreachable_rules_is_refused_whole(client, nc):
    tenant, _ = nc
    body = {
        "rules": [
            {"name": "a", "precedence": 1, "condition": "industri = healthcare", "territory_code": "HC"},
            {"name": "b", "precedence": 2, "condition": "potential > big", "territory_code": "HC-KEY"},
            {"name": "c", "precedence": 3, "condition": "size in (L, XXL) and (", "territory_code": "KEY"},
            {"name": "d", "precedence": 3, "condition": "industry < 'x'", "territory_code": "EAST"},
        ]
    }
    r = client.put("/v1/sales-forces/field/rule-set", json=body, headers=tenant)
    assert r.status_code == 422, r.text
    problems = {(e["rule"], e["field"]) for e in r.json()["errors"]}
    assert problems == {
        ("a", "rules.0.condition"),
        ("b", "rules.1.condition"),
        ("c", "rules.2.condition"),
        ("d", "rules.3.precedence"),
        ("d", "rules.3.condition"),
    }
    assert "industri" in next(e["reason"] for e in r.json()["errors"] if e["rule"] == "a")
    unreachable = {
        "rules": [
            {"name": "all-hc", "precedence": 1, "condition": "industry = healthcare", "territory_code": "HC"},
            {
                "name": "big-hc",
                "precedence": 2,
                "condition": "industry = healthcare and size = XL",
                "territory_code": "HC-KEY",
            },
            {
                "name": "never",
                "precedence": 3,
                "condition": "potential > 10 and potential < 5",
                "territory_code": "KEY",
            },
        ]
    }
    r = client.put("/v1/sales-forces/field/rule-set", json=unreachable, headers=tenant)
    assert r.status_code == 422
    reasons = {e["field"]: e["reason"] for e in r.json()["errors"]}
    assert "all-hc" in reasons["rules.1.condition"] and "never be true" in reasons["rules.2.condition"]
    assert client.get("/v1/sales-forces/field/rule-set", headers=tenant).status_code == 404
    unknown = {"rules": [{"name": "x", "precedence": 1, "condition": "industry = retail", "territory_code": "NOPE-T"}]}
    r = client.put("/v1/sales-forces/field/rule-set", json=unknown, headers=tenant)
    assert r.status_code == 422
    assert [(e["field"], "NOPE-T" in e["reason"]) for e in r.json()["errors"]] == [("rules.0.territory_code", True)]
    assert client.get("/v1/sales-forces/field/rule-set", headers=tenant).status_code == 404


def _saved_rules(client, tenant) -> object:
    r = client.get("/v1/sales-forces/field/rule-set", headers=tenant)
    return r.json()["rules"] if r.status_code == 200 else None


def test_a_rule_with_a_territory_code_and_geography_is_refused_as_ambiguous(client, nc):
    tenant, _ = nc
    kept = {"rules": [{"name": "hc", "precedence": 1, "condition": "industry = healthcare", "territory_code": "HC"}]}
    assert client.put("/v1/sales-forces/field/rule-set", json=kept, headers=tenant).status_code == 202
    before = _saved_rules(client, tenant)
    both = {
        "rules": [
            {"name": "retail", "precedence": 1, "condition": "industry = retail", "territory_code": "KEY"},
            {
                "name": "hc",
                "precedence": 2,
                "condition": "industry = healthcare",
                "geography": True,
                "territory_code": "HC",
            },
        ]
    }
    r = client.put("/v1/sales-forces/field/rule-set", json=both, headers=tenant)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"] == [
        {"rule": "hc", "field": "rules.1.geography", "reason": "give territory_code or geography: true, not both"}
    ]
    assert _saved_rules(client, tenant) == before


def test_a_geography_rule_that_names_a_rep_is_refused_because_the_rep_would_be_ignored(client, tenant):
    assert client.put("/v1/reps/kim", json={"name": "kim"}, headers=tenant).status_code == 201
    body = {
        "rules": [
            {
                "name": "hc",
                "precedence": 1,
                "condition": "industry = healthcare",
                "geography": True,
                "rep_external_id": "kim",
            }
        ]
    }
    r = client.put("/v1/sales-forces/field/rule-set", json=body, headers=tenant)
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["rules.0.rep_external_id"]
    assert _saved_rules(client, tenant) is None


def test_a_rule_with_an_empty_territory_code_is_refused(client, tenant):
    body = {"rules": [{"name": "hc", "precedence": 1, "condition": "industry = healthcare", "territory_code": ""}]}
    r = client.put("/v1/sales-forces/field/rule-set", json=body, headers=tenant)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "rules.0.territory_code"
    assert _saved_rules(client, tenant) is None


def test_owner_of_an_account_a_location_and_a_zip_code(client, nc):
    tenant, _ = nc
    ana = rep(client, tenant, "ana", "EAST")
    by_account = client.get("/v1/sales-forces/field/owner?account=bank", headers=tenant).json()
    assert by_account["territory_code"] == "EAST" and by_account["rep_external_id"] == "ana"
    by_point = client.get(f"/v1/sales-forces/field/owner?lat={RALEIGH[1]}&lon={RALEIGH[0]}", headers=tenant).json()
    assert by_point["territory_code"] == "EAST" and by_point["rep_id"] == ana and by_point["unit_id"] == WAKE
    by_zip = client.get("/v1/sales-forces/field/owner?zip=27701", headers=tenant).json()  # Durham
    assert by_zip["territory_code"] == "EAST" and by_zip["location_precision"] == "zip-centroid"


def test_deactivating_a_rep_reassigns_only_its_territories_and_keeps_the_roster(client, nc):
    tenant, _ = nc
    ana = rep(client, tenant, "ana", "EAST")
    assert owners(client, tenant)["bank"][1] == ana
    r = client.put("/v1/reps/ana", json={"name": "ana", "active": False}, headers=tenant)
    assert r.status_code == 200 and r.json()["version"] == 2
    assert owners(client, tenant)["bank"][:2] == ("EAST", None)
    assert len(client.get("/v1/roster-entries?territory_code=EAST", headers=tenant).json()) == 1
    rep(client, tenant, "cy", "EAST")
    entry = client.get("/v1/roster-entries?rep_external_id=cy", headers=tenant).json()[0]
    assert owners(client, tenant)["bank"][1] == entry["rep_id"]
    ended = client.post(f"/v1/roster-entries/{entry['id']}/end", headers=tenant).json()
    assert ended["ended_at"] is not None and owners(client, tenant)["bank"][1] is None
    history = client.get("/v1/accounts/bank/history", headers=tenant).json()
    assert [h["trigger"] for h in history] == ["account", "roster", "rep", "roster", "roster"]


def test_a_second_primary_rep_on_a_territory_for_overlapping_dates_is_refused_naming_the_entry_held(client, nc):
    tenant, _ = nc
    for ext in ("ana", "bo"):
        assert client.put(f"/v1/reps/{ext}", json={"name": ext}, headers=tenant).status_code == 201
    held = {"sales_force": "field", "territory_code": "EAST", "rep_external_id": "ana", "effective_from": "2030-01-01"}
    first = client.post("/v1/roster-entries", json=held, headers=tenant)
    assert first.status_code == 201, first.text
    for dates in ({"effective_from": "2031-06-01"}, {"effective_from": "2029-01-01", "effective_to": "2030-01-02"}):
        second = {"sales_force": "field", "territory_code": "EAST", "rep_external_id": "bo", **dates}
        r = client.post("/v1/roster-entries", json=second, headers=tenant)
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", r.text
        assert r.json()["field"] == "role" and r.json()["conflicting_entry_id"] == first.json()["id"]
    assert [e["rep_external_id"] for e in client.get("/v1/roster-entries", headers=tenant).json()] == ["ana"]
    # Before the held entry starts, as a secondary, or once it has ended, bo may hold the territory.
    allowed = [
        {"effective_from": "2029-01-01", "effective_to": "2030-01-01"},
        {"role": "secondary", "effective_from": "2030-01-01"},
    ]
    for extra in allowed:
        body = {"sales_force": "field", "territory_code": "EAST", "rep_external_id": "bo", **extra}
        assert client.post("/v1/roster-entries", json=body, headers=tenant).status_code == 201
    ended = client.post(f"/v1/roster-entries/{first.json()['id']}/end?on=2031-01-01", headers=tenant)
    assert ended.status_code == 200
    after = {"sales_force": "field", "territory_code": "EAST", "rep_external_id": "bo", "effective_from": "2031-01-01"}
    assert client.post("/v1/roster-entries", json=after, headers=tenant).status_code == 201


def test_a_roster_entry_or_an_override_naming_a_territory_no_alignment_has_is_refused_and_changes_nothing(client, nc):
    tenant, layer = nc
    assert client.put("/v1/reps/ana", json={"name": "ana"}, headers=tenant).status_code == 201
    before = owners(client, tenant)
    entry = {"sales_force": "field", "territory_code": "NOPE-T", "rep_external_id": "ana"}
    r = client.post("/v1/roster-entries", json=entry, headers=tenant)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", r.text
    assert r.json()["field"] == "territory_code" and "NOPE-T" in r.json()["detail"]
    r = client.put("/v1/sales-forces/field/overrides/clinic", json={"territory_code": "NOPE-T"}, headers=tenant)
    assert r.status_code == 422 and r.json()["field"] == "territory_code", r.text
    # Another sales force's code is not this one's.
    draft(client, tenant, layer, {"OV-1": [WAKE]}, sales_force="overlay")
    r = client.put("/v1/sales-forces/field/overrides/clinic", json={"territory_code": "OV-1"}, headers=tenant)
    assert r.status_code == 422, r.text
    assert client.get("/v1/roster-entries?territory_code=NOPE-T", headers=tenant).json() == []
    assert owners(client, tenant) == before
    # Created first as an account-based territory of a draft, the code may be named.
    draft(client, tenant, layer, {"KEY-ACCOUNTS": []})
    r = client.put("/v1/sales-forces/field/overrides/clinic", json={"territory_code": "KEY-ACCOUNTS"}, headers=tenant)
    assert r.status_code == 200, r.text
    assert owners(client, tenant)["clinic"][0] == "KEY-ACCOUNTS"
