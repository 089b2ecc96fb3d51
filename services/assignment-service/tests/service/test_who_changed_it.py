"""Who made each change, as the records show it: a token's subject, an API key's name, or ``system``; the history
of an account, realignment runs, rule sets, overrides and roster entries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.auth import auth_headers

from .conftest import upsert, wait_for_job
from .geography import CHARLOTTE, DURHAM, MECKLENBURG, RALEIGH, WAKE, draft, import_nc, publish

pytestmark = pytest.mark.postgis

ACCOUNTS = [
    {"external_id": "raleigh", "lat": RALEIGH[1], "lon": RALEIGH[0], "potential": 100},
    {"external_id": "charlotte", "lat": CHARLOTTE[1], "lon": CHARLOTTE[0], "potential": 5},
]
RULES = {"rules": [{"name": "big", "precedence": 1, "condition": "potential >= 50", "territory_code": "WEST"}]}


def tenant_as(sub: str, role: str = "admin") -> tuple[str, dict[str, str]]:
    name = f"who-{uuid.uuid4().hex[:8]}"
    return name, auth_headers(name, role, sub=sub)


def nc(client, headers, tmp_path) -> dict:
    layer = import_nc(client, headers, tmp_path)
    return publish(client, headers, draft(client, headers, layer, {"EAST": [WAKE, DURHAM], "WEST": [MECKLENBURG]}))


def make_changes(client, headers) -> dict:
    """An upsert, a rep on EAST (added, then ended), a rule set moving raleigh to WEST, an override back to EAST."""
    assert upsert(client, headers, ACCOUNTS).status_code == 200
    assert client.put("/v1/reps/ana", json={"name": "Ana"}, headers=headers).status_code == 201
    body = {"sales_force": "field", "territory_code": "EAST", "rep_external_id": "ana"}
    added = client.post("/v1/roster-entries", json=body, headers=headers)
    assert added.status_code == 201, added.text
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date()
    ended = client.post(f"/v1/roster-entries/{added.json()['id']}/end", params={"on": str(tomorrow)}, headers=headers)
    assert ended.status_code == 200, ended.text
    saved = client.put("/v1/sales-forces/field/rule-set", json=RULES, headers=headers)
    assert saved.status_code == 202, saved.text
    assert wait_for_job(client, headers, "", saved.json()["job"]["id"])["status"] == "succeeded"  # moves raleigh
    override = client.put("/v1/sales-forces/field/overrides/raleigh", json={"territory_code": "EAST"}, headers=headers)
    assert override.status_code == 200, override.text
    return {"added": added.json(), "ended": ended.json(), "saved": saved.json(), "override": override.json()}


def test_every_record_of_a_change_made_with_a_token_names_its_subject(client, tmp_path):
    _, alice = tenant_as("alice@example.com")
    run = nc(client, alice, tmp_path)
    # The publish was made in geo-service: assignment-service's run is the publisher's, told by the event.
    assert run["started_by"] == "alice@example.com"
    assert client.get(f"/v1/realignments/{run['id']}", headers=alice).json()["started_by"] == "alice@example.com"

    made = make_changes(client, alice)
    assert made["added"]["created_by"] == "alice@example.com" and made["added"]["ended_by"] is None
    assert made["ended"]["created_by"] == made["ended"]["ended_by"] == "alice@example.com"
    listed = client.get("/v1/roster-entries", headers=alice).json()
    assert [(e["created_by"], e["ended_by"]) for e in listed] == [("alice@example.com", "alice@example.com")]
    assert made["saved"]["updated_by"] == "alice@example.com"
    assert client.get("/v1/sales-forces/field/rule-set", headers=alice).json()["updated_by"] == "alice@example.com"
    assert made["override"]["created_by"] == "alice@example.com"

    history = client.get("/v1/accounts/raleigh/history", headers=alice).json()
    # Placed on upsert, given ana, moved by the rule-set job (which acts for whoever saved the rules), pinned back.
    assert [(h["trigger"], h["to_territory_code"]) for h in history] == [
        ("account", "EAST"),
        ("roster", "EAST"),
        ("rule", "WEST"),
        ("override", "EAST"),
    ]
    assert {h["changed_by"] for h in history} == {"alice@example.com"}


def test_every_record_of_a_change_made_with_an_api_key_names_the_key(client, tmp_path):
    _, admin = tenant_as("root@example.com")
    nc(client, admin, tmp_path)
    key = client.post("/v1/api-keys", json={"name": "Salesforce sync", "role": "planner"}, headers=admin)
    assert key.status_code == 201, key.text
    crm = {"X-API-Key": key.json()["key"]}

    made = make_changes(client, crm)
    by_key = "api-key:Salesforce sync"
    assert made["added"]["created_by"] == made["ended"]["ended_by"] == by_key
    assert made["saved"]["updated_by"] == made["override"]["created_by"] == by_key
    assert client.get("/v1/sales-forces/field/rule-set", headers=admin).json()["updated_by"] == by_key
    history = client.get("/v1/accounts/raleigh/history", headers=admin).json()
    assert [h["changed_by"] for h in history] == [by_key] * 4
    # Read by someone else, a record still names who made it.
    asked = {"account": "raleigh", "on": history[-1]["changed_at"]}
    owner = client.get("/v1/sales-forces/field/owner", params=asked, headers=admin)
    assert owner.json()["changed_by"] == by_key and owner.json()["trigger"] == "override"
