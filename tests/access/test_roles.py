"""Who may call what: every operation of the three services, for every role, against the services' access tables;
credentials missing or bad on every operation; and the policy those tables are meant to say, spelled out."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from territory_shared.api.roles import ROLES

from tests.access.conftest import Tenant, ok
from tests.access.routes import Operation, operations
from tests.support.auth import auth_headers, token
from tests.support.processes import eventually

OPEN = ["/healthz", "/readyz", "/prometheus", "/docs", "/openapi.json", "/redoc"]


def allowed(client: TestClient, op: Operation) -> frozenset[str]:
    return client.app.state.services[op.service].state.access[(op.method, op.path)]


def wait_for_job(client: TestClient, path: str, headers: dict[str, str]) -> None:
    eventually(lambda: ok(client.get(path, headers=headers))["status"] not in ("queued", "running"), deadline_s=60)


def test_every_operation_is_in_its_service_access_table_and_every_entry_is_an_operation(client: TestClient):
    ops = operations(client.app.state.services)
    for service, app in client.app.state.services.items():
        declared = {(op.method, op.path) for op in ops if op.service == service}
        assert declared == set(app.state.access), service


def test_each_role_is_let_through_or_refused_as_the_tables_say_on_every_operation(
    client: TestClient, databases: dict[str, str]
):
    # A tenant with nothing in it: allowed calls end in 404 or 422, never in 401 or 403; refused ones in 403.
    tenant = f"roles-{uuid.uuid4().hex[:8]}"
    wrong = []
    for op in operations(client.app.state.services):
        for role in sorted(ROLES):
            call = op.request({}, with_body=False)
            call["headers"] |= auth_headers(tenant, role, rep_id="REP-1")
            r = client.request(**call)
            if r.status_code == 202:  # a job started: let it end before the next one
                wait_for_job(client, f"/{op.service}/v1/jobs/{r.json()['job_id']}", auth_headers(tenant))
            expected_refusal = role not in allowed(client, op)
            if (r.status_code == 403) != expected_refusal or r.status_code == 401 or r.status_code >= 500:
                wrong.append(f"{op.id} as {role}: {r.status_code} {r.text[:200]}")
            if r.status_code == 403:
                assert r.headers["content-type"] == "application/problem+json"
    assert not wrong, "\n".join(wrong)


def test_without_credentials_or_with_bad_ones_every_operation_answers_401_problem_json(client: TestClient):
    bad = {
        "none": {},
        "garbage": {"Authorization": "Bearer not-a-token"},
        "expired": {"Authorization": f"Bearer {token('t', ttl_s=-120)}"},
        "forged": {"Authorization": f"Bearer {token('t', secret='someone-elses-secret-0123456789abcdef')}"},
        "unknown api key": {"X-API-Key": "tk_" + "x" * 43},
        "basic auth": {"Authorization": "Basic dXNlcjpwYXNz"},
    }
    for op in operations(client.app.state.services):
        for name, headers in bad.items():
            call = op.request({}, with_body=False)
            call["headers"] |= headers
            r = client.request(**call)
            assert r.status_code == 401, f"{op.id} with {name} credentials: {r.status_code} {r.text[:200]}"
            assert r.headers["content-type"] == "application/problem+json"
            assert r.headers["www-authenticate"].startswith('Bearer realm="territory"')
            assert r.json()["status"] == 401 and r.json()["detail"]


@pytest.mark.parametrize("path", OPEN)
def test_health_and_docs_need_no_credentials(client: TestClient, path: str):
    for service in ("geo", "assignment", "metrics"):
        assert client.get(f"/{service}{path}").status_code == 200, f"/{service}{path}"


def test_openapi_declares_the_bearer_and_api_key_schemes_and_health_as_open(client: TestClient):
    for service in ("geo", "assignment", "metrics"):
        spec = ok(client.get(f"/{service}/openapi.json"))
        schemes = spec["components"]["securitySchemes"]
        assert schemes["HTTPBearer"]["scheme"] == "bearer"
        assert schemes["APIKeyHeader"] == {**schemes["APIKeyHeader"], "in": "header", "name": "X-API-Key"}
        assert spec["paths"]["/healthz"]["get"]["security"] == []
        assert {"HTTPBearer": []} in spec["paths"]["/v1/api-keys"]["get"]["security"]


# The policy, in words a reviewer can check against docs/access.md; the generated test above checks every cell.
POLICY = [
    ("rep", "geo", "GET", "/v1/alignments", False),
    ("rep", "metrics", "GET", "/v1/alignments", False),
    ("rep", "assignment", "GET", "/v1/accounts", True),
    ("rep", "assignment", "POST", "/v1/accounts/bulk", False),
    ("integration", "assignment", "POST", "/v1/accounts/bulk", True),
    ("rep", "assignment", "POST", "/v1/accounts/bulk-delete", False),
    ("integration", "assignment", "POST", "/v1/accounts/bulk-delete", True),
    ("integration", "assignment", "PUT", "/v1/reps/{external_id}", True),
    ("integration", "assignment", "GET", "/v1/realignments", True),
    ("integration", "assignment", "PUT", "/v1/sales-forces/{sales_force}/rule-set", False),
    ("integration", "geo", "POST", "/v1/alignments/{alignment_id}/publish", False),
    ("manager", "assignment", "POST", "/v1/realignments/preview", True),
    ("manager", "metrics", "POST", "/v1/alignments/{alignment_id}/what-if", True),
    ("manager", "geo", "POST", "/v1/alignments/{alignment_id}/publish", False),
    ("manager", "geo", "POST", "/v1/alignments/{alignment_id}/moves", False),
    ("planner", "geo", "POST", "/v1/alignments/{alignment_id}/publish", True),
    ("planner", "assignment", "PUT", "/v1/sales-forces/{sales_force}/rule-set", True),
    ("planner", "geo", "POST", "/v1/api-keys", False),
    ("admin", "assignment", "POST", "/v1/api-keys", True),
    ("service", "geo", "POST", "/v1/locate", True),
    ("service", "geo", "POST", "/v1/alignments", True),  # a design job's draft, the job checked the planner
    ("service", "geo", "POST", "/v1/alignments/{alignment_id}/publish", False),
    ("service", "geo", "POST", "/v1/alignments/{alignment_id}/moves", False),
]


@pytest.mark.parametrize(("role", "service", "method", "path", "may"), POLICY)
def test_the_policy(client: TestClient, role: str, service: str, method: str, path: str, may: bool):
    assert (role in client.app.state.services[service].state.access[(method, path)]) is may


def test_a_rep_sees_their_own_rep_record_and_only_the_accounts_assigned_to_them(client: TestClient, tenant_a: Tenant):
    rep = tenant_a.headers("rep", rep_id="REP-A")
    assert [r["external_id"] for r in ok(client.get("/assignment/v1/reps", headers=rep))] == ["REP-A"]
    assert ok(client.get("/assignment/v1/reps/REP-A", headers=rep))["external_id"] == "REP-A"
    ok(client.put("/assignment/v1/reps/REP-B", json={"name": "another rep"}, headers=tenant_a.headers()), 201)
    assert client.get("/assignment/v1/reps/REP-B", headers=rep).status_code == 404
    mine = [a["external_id"] for a in ok(client.get("/assignment/v1/accounts", headers=rep))["items"]]
    assert mine == ["ACC-A1"]  # ACC-A2 is in T2 (pinned there), which REP-A does not hold
    assert ok(client.get("/assignment/v1/accounts/ACC-A1", headers=rep))["external_id"] == "ACC-A1"
    assert ok(client.get("/assignment/v1/accounts/ACC-A1/assignments", headers=rep))[0]["territory_code"] == "T1"
    assert ok(client.get("/assignment/v1/accounts/ACC-A1/history", headers=rep))
    for path in ("/v1/accounts/ACC-A2", "/v1/accounts/ACC-A2/assignments", "/v1/accounts/ACC-A2/history"):
        assert client.get(f"/assignment{path}", headers=rep).status_code == 404, path
    rows = ok(client.get("/assignment/v1/sales-forces/field/assignments", headers=rep))["items"]
    assert [r["external_id"] for r in rows] == ["ACC-A1"]
    # A rep of the same name in another tenant sees nothing of tenant A's.
    stranger = auth_headers("elsewhere", "rep", rep_id="REP-A")
    assert ok(client.get("/assignment/v1/accounts", headers=stranger))["items"] == []
    assert client.get("/assignment/v1/accounts/ACC-A1", headers=stranger).status_code == 404


def test_the_matrix_in_docs_access_md_is_the_access_tables(client: TestClient):
    doc = (Path(__file__).resolve().parents[2] / "docs" / "access.md").read_text()
    header = next(line for line in doc.splitlines() if line.startswith("| service | operation |"))
    roles = [c.strip() for c in header.strip("|").split("|")][2:]
    rows = {}
    for line in doc.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == len(roles) + 2 and cells[1].startswith("`"):
            rows[(cells[0], cells[1].strip("`"))] = {r for r, c in zip(roles, cells[2:], strict=True) if c}
    for service, app in client.app.state.services.items():
        for (method, path), allowed_roles in app.state.access.items():
            documented = rows.get((service, f"{method} {path}")) or rows.get(("every service", f"{method} {path}"))
            assert documented == set(allowed_roles), f"docs/access.md: {service} {method} {path}"
