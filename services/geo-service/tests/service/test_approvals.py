"""Approval of drafts before publishing: a sales force's policy, submit, approve level by level, reject, override."""

from __future__ import annotations

import json

import pytest

from tests.support.auth import auth_headers
from tests.support.databases import fetch_all

from .boundaries import WAKE
from .conftest import nc_layer, new_draft
from .test_alignments import move, outbox_types, territory

pytestmark = pytest.mark.postgis

TENANT = "approvals"
ADMIN = auth_headers(TENANT, "admin", sub="root")
PAULA = auth_headers(TENANT, "planner", sub="paula")  # plans and submits
PETE = auth_headers(TENANT, "planner", sub="pete")
ALICE = auth_headers(TENANT, "manager", sub="alice")
BOB = auth_headers(TENANT, "manager", sub="bob")
TWO_LEVELS = [{"name": "Sales ops", "roles": ["planner"]}, {"name": "Regional VP", "roles": ["manager"]}]


@pytest.fixture(scope="module")
def layer(client, tmp_path_factory) -> str:
    return nc_layer(client, ADMIN, tmp_path_factory.mktemp("nc"))


def draft(client, layer, sales_force) -> dict:
    return new_draft(client, PAULA, layer, sales_force)


def set_policy(client, sales_force, levels, allow_self_approval=False) -> dict:
    body = {"levels": levels, "allow_self_approval": allow_self_approval}
    r = client.put(f"/v1/sales-forces/{sales_force}/approval-policy", json=body, headers=ADMIN)
    assert r.status_code == 200, r.text
    return r.json()


def approval(client, alignment_id) -> dict:
    r = client.get(f"/v1/alignments/{alignment_id}/approval", headers=ALICE)
    assert r.status_code == 200, r.text
    return r.json()


def act(client, alignment_id, action, headers, **body):
    return client.post(f"/v1/alignments/{alignment_id}/{action}", json=body or None, headers=headers)


def publish(client, alignment_id, headers=PAULA, **params):
    return client.post(f"/v1/alignments/{alignment_id}/publish", params=params, headers=headers)


def state_of(client, alignment_id) -> str:
    return client.get(f"/v1/alignments/{alignment_id}", headers=PAULA).json()["state"]


def test_admins_set_read_replace_and_remove_a_policy_and_a_stale_replace_gets_412(client, sales_force):
    path = f"/v1/sales-forces/{sales_force}/approval-policy"
    assert client.get(path, headers=PAULA).status_code == 404
    assert client.put(path, json={"levels": TWO_LEVELS}, headers=PAULA).status_code == 403
    policy = set_policy(client, sales_force, TWO_LEVELS)
    assert policy["version"] == 1 and policy["updated_by"] == "root" and policy["allow_self_approval"] is False
    assert policy["levels"] == [
        {"name": "Sales ops", "roles": ["planner"], "users": []},
        {"name": "Regional VP", "roles": ["manager"], "users": []},
    ]
    r = client.get(path, headers=ALICE)
    assert r.status_code == 200 and r.headers["etag"] == '"1"'
    stale = client.put(path, json={"levels": TWO_LEVELS[:1]}, headers={**ADMIN, "If-Match": '"7"'})
    assert stale.status_code == 412 and stale.headers["content-type"] == "application/problem+json"
    r = client.put(path, json={"levels": TWO_LEVELS[:1]}, headers={**ADMIN, "If-Match": '"1"'})
    assert r.status_code == 200 and r.json()["version"] == 2 and len(r.json()["levels"]) == 1
    assert client.delete(path, headers=PAULA).status_code == 403
    assert client.delete(path, headers=ADMIN).status_code == 204
    assert client.get(path, headers=PAULA).status_code == 404
    assert client.delete(path, headers=ADMIN).status_code == 404


@pytest.mark.parametrize(
    ("levels", "field"),
    [
        ([], "levels"),
        ([{"name": "nobody"}], "levels.0"),
        ([{"name": "CRM", "roles": ["integration"]}], "levels.0.roles.0"),
        ([{"name": "A", "roles": ["planner"]}, {"name": "A", "roles": ["manager"]}], "levels.1.name"),
    ],
    ids=["no-level", "level-names-no-one", "role-that-cannot-approve", "same-name-twice"],
)
def test_a_policy_that_could_never_be_met_is_refused_naming_the_field(client, sales_force, levels, field):
    r = client.put(f"/v1/sales-forces/{sales_force}/approval-policy", json={"levels": levels}, headers=ADMIN)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in r.json()["errors"]], r.json()
    assert client.get(f"/v1/sales-forces/{sales_force}/approval-policy", headers=ADMIN).status_code == 404


def test_without_a_policy_no_approval_is_required_and_a_draft_is_published_as_before(client, layer, sales_force):
    a = draft(client, layer, sales_force)
    got = approval(client, a["id"])
    assert got == {
        "alignment_id": a["id"],
        "required": False,
        "state": "not_required",
        "version": 1,
        "current_level": None,
        "levels": [],
        "steps": [],
    }
    r = act(client, a["id"], "submit", PAULA)
    assert r.status_code == 409 and r.json()["approval_state"] == "not_required"
    assert publish(client, a["id"]).status_code == 200


def test_publishing_a_draft_that_is_not_approved_gets_409_and_changes_nothing(client, layer, sales_force):
    set_policy(client, sales_force, TWO_LEVELS)
    a = draft(client, layer, sales_force)
    r = publish(client, a["id"])
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["approval_state"] == "not_submitted" and "override_approval" in r.json()["detail"]
    assert act(client, a["id"], "submit", PAULA).status_code == 200
    r = publish(client, a["id"], ADMIN)  # an admin too, unless it says it overrides
    assert r.status_code == 409 and r.json()["approval_state"] == "pending" and r.json()["current_level"] == 1
    assert state_of(client, a["id"]) == "draft"
    assert "geo.alignment.published.v1" not in outbox_types(client, a["id"])


def test_a_draft_is_approved_level_by_level_by_whoever_each_level_names_then_published(client, layer, sales_force):
    set_policy(client, sales_force, TWO_LEVELS)
    a = draft(client, layer, sales_force)
    r = act(client, a["id"], "submit", PAULA, comment="FY27 plan")
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["current_level"], r.json()["version"]) == ("pending", 1, 1)
    # Level 1 is for planners: a manager is not one of them yet.
    r = act(client, a["id"], "approve", ALICE)
    assert r.status_code == 403 and r.json()["level"] == 1
    r = act(client, a["id"], "approve", PETE, comment="balanced")
    assert r.status_code == 200 and (r.json()["state"], r.json()["current_level"]) == ("pending", 2)
    assert act(client, a["id"], "approve", PETE).status_code == 403  # level 2 is for managers
    r = act(client, a["id"], "approve", ALICE)
    assert r.status_code == 200 and (r.json()["state"], r.json()["current_level"]) == ("approved", None)
    steps = [(s["level"], s["decision"], s["by"], s["comment"], s["version"]) for s in r.json()["steps"]]
    assert steps == [
        (None, "submitted", "paula", "FY27 plan", 1),
        (1, "approved", "pete", "balanced", 1),
        (2, "approved", "alice", None, 1),
    ]
    assert act(client, a["id"], "approve", BOB).status_code == 409  # nothing left to approve
    assert publish(client, a["id"]).status_code == 200
    types = outbox_types(client, a["id"])
    assert types[: types.index("geo.alignment.published.v1")][-3:] == [
        "geo.alignment.submitted.v1",
        "geo.alignment.approved.v1",
        "geo.alignment.approved.v1",
    ]
    approved = outbox_data(client, a["id"], "geo.alignment.approved.v1")
    assert [(d["level"], d["level_name"], d["final"], d["by"]) for d in approved] == [
        (1, "Sales ops", False, "pete"),
        (2, "Regional VP", True, "alice"),
    ]


def test_the_submitter_may_not_approve_their_own_draft_unless_the_policy_allows_it(client, layer, sales_force):
    # 403, not 409: the draft is ready to be approved (another approver succeeds with the same request); it is who
    # asks that is refused, as a caller outside the level is.
    set_policy(client, sales_force, [{"name": "Sales ops", "roles": ["planner"]}])
    a = draft(client, layer, sales_force)
    assert act(client, a["id"], "submit", PAULA).status_code == 200
    r = act(client, a["id"], "approve", PAULA)
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    assert "self-approval" in r.json()["detail"]
    assert approval(client, a["id"])["state"] == "pending"
    set_policy(client, sales_force, [{"name": "Sales ops", "roles": ["planner"]}], allow_self_approval=True)
    r = act(client, a["id"], "approve", PAULA)
    assert r.status_code == 200 and r.json()["state"] == "approved"


def test_a_level_of_named_users_is_decided_by_them_alone(client, layer, sales_force):
    set_policy(client, sales_force, [{"name": "VP", "users": ["alice"]}])
    a = draft(client, layer, sales_force)
    act(client, a["id"], "submit", PAULA)
    for someone in (BOB, PETE, ADMIN):
        r = act(client, a["id"], "approve", someone)
        assert r.status_code == 403 and "alice" in r.json()["detail"], r.text
        assert act(client, a["id"], "reject", someone, comment="no").status_code == 403
    assert approval(client, a["id"])["state"] == "pending"
    assert act(client, a["id"], "approve", ALICE).json()["state"] == "approved"


def test_a_rejection_needs_a_comment_ends_the_round_and_the_planner_may_submit_again(client, layer, sales_force):
    set_policy(client, sales_force, TWO_LEVELS)
    a = draft(client, layer, sales_force)
    act(client, a["id"], "submit", PAULA)
    r = client.post(f"/v1/alignments/{a['id']}/reject", headers=PETE)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body"
    for body in ({}, {"comment": "   "}):
        r = client.post(f"/v1/alignments/{a['id']}/reject", json=body, headers=PETE)
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in r.json()["errors"]] == ["comment"], r.json()
    assert approval(client, a["id"])["state"] == "pending"
    r = act(client, a["id"], "reject", PETE, comment="Keep Wake in EAST")
    assert r.status_code == 200 and (r.json()["state"], r.json()["current_level"]) == ("rejected", None)
    assert act(client, a["id"], "approve", PETE).status_code == 409
    assert publish(client, a["id"]).status_code == 409
    r = act(client, a["id"], "submit", PAULA)
    assert r.status_code == 200 and (r.json()["state"], r.json()["current_level"]) == ("pending", 1)
    assert [s["decision"] for s in r.json()["steps"]] == ["submitted", "rejected", "submitted"]
    rejected = outbox_data(client, a["id"], "geo.alignment.rejected.v1")
    assert [(d["level"], d["by"], d["comment"]) for d in rejected] == [(1, "pete", "Keep Wake in EAST")]


def test_a_draft_edited_after_its_approval_needs_approval_again(client, layer, sales_force):
    set_policy(client, sales_force, [{"name": "VP", "roles": ["manager"]}])
    a = draft(client, layer, sales_force)
    east = territory(client, PAULA, a["id"], "EAST")
    act(client, a["id"], "submit", PAULA)
    assert act(client, a["id"], "submit", PAULA).status_code == 409  # already pending
    assert act(client, a["id"], "approve", ALICE).json()["state"] == "approved"
    r = move(client, PAULA, a["id"], [WAKE], east, 1)
    assert r.status_code == 200, r.text
    got = approval(client, a["id"])
    assert (got["state"], got["version"]) == ("not_submitted", 2)
    assert [s["version"] for s in got["steps"]] == [1, 1]  # the approval was of version 1
    r = publish(client, a["id"])
    assert r.status_code == 409 and r.json()["approval_state"] == "not_submitted"
    stale = client.post(f"/v1/alignments/{a['id']}/submit", headers={**PAULA, "If-Match": '"1"'})
    assert stale.status_code == 412
    act(client, a["id"], "submit", PAULA)
    assert act(client, a["id"], "approve", ALICE).json()["version"] == 2
    assert publish(client, a["id"]).status_code == 200


def test_an_admin_may_publish_without_approval_and_the_override_is_recorded(client, layer, sales_force):
    set_policy(client, sales_force, TWO_LEVELS)
    a = draft(client, layer, sales_force)
    act(client, a["id"], "submit", PAULA)
    r = publish(client, a["id"], PAULA, override_approval="true")
    assert r.status_code == 403 and "admins" in r.json()["detail"]
    assert state_of(client, a["id"]) == "draft"
    r = publish(client, a["id"], ADMIN, override_approval="true")
    assert r.status_code == 200 and r.json()["state"] == "active"
    got = approval(client, a["id"])
    override = got["steps"][-1]
    assert (override["decision"], override["by"], override["version"], override["level"]) == (
        "overridden",
        "root",
        1,
        None,
    )
    assert override["at"]
    types = outbox_types(client, a["id"])
    assert types.index("geo.alignment.approval_overridden.v1") < types.index("geo.alignment.published.v1")
    [event] = outbox_data(client, a["id"], "geo.alignment.approval_overridden.v1")
    assert (event["approval_state"], event["by"], event["version"]) == ("pending", "root", 1)


def test_an_override_of_a_draft_that_needs_none_records_nothing(client, layer, sales_force):
    a = draft(client, layer, sales_force)
    assert publish(client, a["id"], ADMIN, override_approval="true").status_code == 200
    assert approval(client, a["id"])["steps"] == []
    assert "geo.alignment.approval_overridden.v1" not in outbox_types(client, a["id"])


def test_another_tenant_neither_reads_nor_decides_a_drafts_approval(client, layer, sales_force):
    set_policy(client, sales_force, [{"name": "VP", "roles": ["manager"]}])
    a = draft(client, layer, sales_force)
    act(client, a["id"], "submit", PAULA)
    other = auth_headers("approvals-other", "admin", sub="alice")
    assert client.get(f"/v1/alignments/{a['id']}/approval", headers=other).status_code == 404
    assert act(client, a["id"], "approve", other).status_code == 404
    assert act(client, a["id"], "reject", other, comment="x").status_code == 404
    assert client.get(f"/v1/sales-forces/{sales_force}/approval-policy", headers=other).status_code == 404
    assert approval(client, a["id"])["state"] == "pending"


def outbox_data(client, subject, event_type) -> list[dict]:
    rows = fetch_all(
        client.app.state.runtime.settings.database_url,
        "SELECT payload FROM outbox WHERE key = :k AND event_type = :t ORDER BY seq",
        k=subject,
        t=event_type,
    )
    return [json.loads(bytes(r["payload"]))["data"] for r in rows]
