"""Requests racing each other on PostGIS: edits of one alignment, publishes of two drafts of one sales force,
bulk upserts of the same accounts. Each race ends in one consistent state, and the losers get a clear answer.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest

from tests.support.auth import auth_headers
from tests.support.databases import fetch_all
from tests.support.postgres import async_url, create_database, drop_database
from tests.support.processes import eventually

from .geography import DURHAM, MECKLENBURG, ORANGE, WAKE, draft, import_nc, publish

pytestmark = pytest.mark.postgis
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    """PostGIS only: SQLite has one writer at a time, so nothing races there."""
    name = create_database("test_concurrency")
    try:
        yield async_url(name)
    finally:
        drop_database(name)


@pytest.fixture
def tenant() -> dict[str, str]:
    return auth_headers(f"race-{uuid.uuid4().hex[:8]}")


def race(*calls: Callable[[], object]) -> list:
    """Run the calls at the same moment, each on its own thread; return their results in order."""
    start = Barrier(len(calls))

    def run(call: Callable[[], object]) -> object:
        start.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_concurrent_edits_of_one_alignment_resolve_by_version(client, tenant, tmp_path):
    layer = import_nc(client, tenant, tmp_path)
    a = draft(client, tenant, layer, {"EAST": [], "WEST": []})
    listed = client.get("/geo/v1/territories", params={"alignment_id": a["id"]}, headers=tenant).json()["items"]
    territories = {t["code"]: t["id"] for t in listed}

    def move(units: list[str], code: str):  # type: ignore[no-untyped-def]
        return lambda: client.post(
            f"/geo/v1/alignments/{a['id']}/moves",
            json={"unit_ids": units, "territory_id": territories[code]},
            headers={**tenant, "If-Match": f'"{a["version"]}"'},
        )

    answers = race(move([WAKE, DURHAM], "EAST"), move([WAKE, MECKLENBURG], "WEST"))
    assert sorted(r.status_code for r in answers) == [200, 412], [r.text for r in answers]
    won, lost = sorted(answers, key=lambda r: r.status_code)
    assert lost.headers["content-type"] == PROBLEM and lost.json()["status"] == 412
    after = client.get(f"/geo/v1/alignments/{a['id']}", headers=tenant)
    assert after.json()["version"] == a["version"] + 1 == won.json()["alignment"]["version"]
    units = {
        u["unit_id"]: u["territory_id"]
        for u in client.get(f"/geo/v1/alignments/{a['id']}/units", headers=tenant).json()
    }
    moved = {u for u, t in units.items() if t is not None}
    assert moved in ({WAKE, DURHAM}, {WAKE, MECKLENBURG})  # one edit whole, nothing of the other


def test_two_concurrent_publishes_of_one_sales_force_leave_one_active_alignment(client, tenant, tmp_path):
    layer = import_nc(client, tenant, tmp_path)
    first = draft(client, tenant, layer, {"EAST": [WAKE, DURHAM], "WEST": [MECKLENBURG]})
    publish(client, tenant, first)
    drafts = [
        draft(client, tenant, layer, {"EAST": [WAKE], "WEST": [MECKLENBURG, DURHAM]}),
        draft(client, tenant, layer, {"EAST": [WAKE, DURHAM, ORANGE], "WEST": [MECKLENBURG]}),
    ]
    answers = race(*(lambda d=d: client.post(f"/geo/v1/alignments/{d['id']}/publish", headers=tenant) for d in drafts))
    # Either the two publications collided (one refused as a problem, nothing of it applied) or the database put
    # them one after the other (both applied, the later one active). Never two active, never a half-publication.
    codes = sorted(r.status_code for r in answers)
    assert codes in ([200, 200], [200, 409], [200, 412]), [r.text for r in answers]
    for r in answers:
        if r.status_code != 200:
            assert r.headers["content-type"] == PROBLEM
    published = [d for d, r in zip(drafts, answers, strict=True) if r.status_code == 200]
    states = {
        a["id"]: a["state"]
        for a in client.get("/geo/v1/alignments", headers=tenant).json()
        if a["sales_force"] == "field"
    }
    active = [i for i, s in states.items() if s == "active"]
    assert len(active) == 1 and active[0] in {d["id"] for d in published}, states
    assert states[first["id"]] == "archived"
    for d, r in zip(drafts, answers, strict=True):
        assert states[d["id"]] == ("draft" if r.status_code != 200 else "active" if d["id"] in active else "archived")

    def completed() -> list[dict] | None:
        done = [r for r in client.get("/v1/realignments", headers=tenant).json() if r["status"] == "completed"]
        return done if active[0] in {r["alignment_id"] for r in done} else None

    runs = [r["alignment_id"] for r in eventually(completed, deadline_s=120, message="the active one's realignment")]
    # At most one run per publication (one overtaken by its successor's may be skipped), the active one's among them.
    assert len(runs) == len(set(runs)) and set(runs) <= {first["id"], *(d["id"] for d in published)}, runs


def test_concurrent_bulk_upserts_of_the_same_accounts_converge_to_one_of_them(client, tenant, tmp_path):
    layer = import_nc(client, tenant, tmp_path)
    publish(client, tenant, draft(client, tenant, layer, {"EAST": [WAKE, DURHAM, ORANGE], "WEST": [MECKLENBURG]}))
    n, versions = 500, 4

    def rows(v: int) -> bytes:
        lon, lat = ((-78.64, 35.78), (-80.84, 35.22), (-78.90, 35.99), (-74.0, 35.0))[v]  # Wake, Charlotte, Durham, sea
        return "\n".join(
            json.dumps({"external_id": f"a{i}", "lon": lon + i * 1e-5, "lat": lat, "potential": v * 1000 + i})
            for i in range(n)
        ).encode()

    def upsert(v: int):  # type: ignore[no-untyped-def]
        return lambda: client.post(
            "/v1/accounts/bulk", content=rows(v), headers={**tenant, "content-type": "application/x-ndjson"}
        )

    answers = race(*(upsert(v) for v in range(versions)))
    assert [r.status_code for r in answers] == [200] * versions, [r.text[:300] for r in answers]
    assert sorted(r.json()["created"] for r in answers) == [0] * (versions - 1) + [n]
    assert all(r.json()["created"] + r.json()["updated"] == n for r in answers)

    accounts = client.get("/v1/accounts?limit=1000", headers=tenant).json()["items"]
    assert len(accounts) == n and len({a["external_id"] for a in accounts}) == n
    assert {a["version"] for a in accounts} == {versions}
    # Each account equals one submitted version, and all of them the same one: the request committed last.
    last = {int(a["potential"]) // 1000 for a in accounts}
    assert len(last) == 1
    owners = client.get("/v1/sales-forces/field/assignments?limit=10000", headers=tenant).json()["items"]
    expected_code = {0: "EAST", 1: "WEST", 2: "EAST", 3: None}[last.pop()]
    assert len(owners) == n and {o["territory_code"] for o in owners} == {expected_code}
    # Every version of every account was announced exactly once, in order.
    db = client.app.state.assignment.state.runtime.settings.database_url
    events = fetch_all(
        db, "SELECT key, payload FROM outbox WHERE event_type = 'assignment.account.upserted.v1' ORDER BY seq"
    )
    ids = {a["id"] for a in accounts}
    seen: dict[str, list[int]] = {}
    for e in events:
        if e["key"] in ids:
            seen.setdefault(str(e["key"]), []).append(json.loads(bytes(e["payload"]))["data"]["version"])
    assert len(seen) == n and all(v == list(range(1, versions + 1)) for v in seen.values())
