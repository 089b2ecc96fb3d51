"""Faults injected into the distributed platform: the broker crashed during a 10,000-account upsert and stopped
during a realignment, a relay killed mid-batch, the database restarted, geo-service down, events delivered twice
and out of order, a publication overtaken by its successor's. Afterwards assignments, notices and metrics equal
what an undisturbed run gives, computed from the source (geo-service's lookup of every account, the realignment's
preview, the rows sent) or taken from the same history delivered once in order: nothing lost, nothing applied twice.

The platform runs on a Kafka broker and a PostgreSQL server of its own, so stopping them leaves the shared
ones (and everyone else's tests) alone.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from territory_shared.events.assignment import AccountDeletedV1, AccountUpsertedV1
from territory_shared.events.contracts import EventData
from territory_shared.events.envelope import new_event

from tests.e2e.assignment_platform import DistributedAssignmentPlatform, draft
from tests.e2e.faults import (
    Tenant,
    accounts,
    assignments,
    execute,
    metrics,
    ndjson,
    new_tenant,
    owners_per_territory,
    pending,
    plans,
    published,
    reassignments,
    runs,
    told_in_a_chain,
    topic,
    upsert,
)
from tests.support.databases import fetch_all
from tests.support.private_infra import PrivateKafka, PrivatePostgres
from tests.support.processes import eventually

pytestmark = pytest.mark.timeout(1800)

PROBLEM = "application/problem+json"


class FaultyPlatform(DistributedAssignmentPlatform):
    broker: PrivateKafka
    postgres: PrivatePostgres


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultyPlatform]:
    workdir = tmp_path_factory.mktemp("faults")
    broker, postgres = PrivateKafka(workdir), PrivatePostgres()
    p: FaultyPlatform | None = None
    try:
        broker.start()
        postgres.start()
        p = FaultyPlatform(workdir, kafka=broker.bootstrap, pg_server=postgres.server)
        p.broker, p.postgres = broker, postgres
        # Smaller relay batches: an outage or a kill then lands in the middle of the relaying.
        p.assignment_relay.env["ASSIGNMENT_RELAY_BATCH_SIZE"] = "200"
        p.start()
        yield p
    finally:
        try:
            if p is not None:
                p.close()
        finally:
            postgres.close()
            broker.close()


def settled(p: FaultyPlatform, tenant: Tenant) -> dict:
    """Wait until every event of the tenant left the outboxes and metrics-service applied each one once: its
    counters equal the distinct events on the topics (accounts and owners; reps and rosters)."""
    eventually(
        lambda: pending(p.assignment_db) == 0 and pending(p.geo_db) == 0,
        deadline_s=600,
        interval_s=0.5,
        message=f"{tenant.name}: outboxes drained",
    )
    expected_events = (
        len(topic(p, "assignment.account", tenant)),
        len(topic(p, "assignment.rep", tenant)) + len(topic(p, "assignment.roster", tenant)),
    )
    return eventually(
        lambda: (m := metrics(p, tenant))["events_applied"] == expected_events and m,
        deadline_s=600,
        interval_s=0.5,
        message=f"{tenant.name}: metrics applied {expected_events} events",
    )


def upsert_while(p: FaultyPlatform, tenant: Tenant, rows: list[dict], disturb) -> dict:  # type: ignore[no-untyped-def]
    """Run the upsert; ``disturb()`` as soon as the relay publishes (the upsert's events, or ones from before
    that it is still sending) or the upsert has returned; return the upsert's report. The upsert commits its
    events at its end, so read what is pending only once it has returned."""
    before = published(p.assignment_db)
    with ThreadPoolExecutor(1) as pool:
        report = pool.submit(upsert, p, tenant, rows)
        eventually(
            lambda: published(p.assignment_db) > before or report.done(),
            deadline_s=600,
            interval_s=0.01,
            message="the relay started on the upsert's events",
        )
        disturb()
        return report.result()


REP_OF = {"WEST": "ana", "EAST": "bob", None: None}


def located(p: FaultyPlatform, tenant: Tenant, rows: list[dict]) -> dict[str, tuple[str | None, str | None]]:
    """Where geo-service puts each account, with the territory's rep: the assignment an undisturbed run gives."""
    points = [{"id": r["external_id"], "lon": r["lon"], "lat": r["lat"]} for r in rows]
    r = httpx.post(
        f"{p.geo_url}/v1/locate", params={"sales_force": "field"}, json={"points": points}, headers=tenant.headers
    )
    assert r.status_code == 200, r.text
    return {x["id"]: (x["territory_code"], REP_OF[x["territory_code"]]) for x in r.json()["results"]}


def event(event_type: str, subject: str, tenant: str, data: EventData) -> bytes:
    return new_event(source="/e2e", type=event_type, subject=subject, tenant_id=tenant, data=data).to_bytes()


def test_events_delivered_twice_and_out_of_order_project_as_in_order_once(platform):
    p = platform

    def history(tenant: str) -> list[tuple[str, bytes]]:
        out = []
        for i in range(40):
            aid = str(uuid.uuid4())
            for v in (1, 2, 3):
                data = AccountUpsertedV1(
                    account_id=aid,
                    external_id=f"x{i}",
                    version=v,
                    lat=35.0,
                    lon=-79.0 + v,
                    location_precision="exact",
                    potential=float(i * v),
                )
                out.append((aid, event("assignment.account.upserted.v1", aid, tenant, data)))
            if i % 4 == 0:
                gone = AccountDeletedV1(account_id=aid, external_id=f"x{i}", version=4)
                out.append((aid, event("assignment.account.deleted.v1", aid, tenant, gone)))
        return out

    in_order, shuffled = (Tenant(f"{label}-{uuid.uuid4().hex[:8]}", {}, "") for label in ("once", "twice"))
    p.inject("assignment.account", history(in_order.name))
    messy = history(shuffled.name) * 2
    random.Random(3).shuffle(messy)
    p.inject("assignment.account", messy)
    expected = eventually(
        lambda: len((m := metrics(p, in_order))["accounts"]) == 40 and m["events_applied"][0] == 130 and m,
        deadline_s=120,
        message="the in-order history projected",
    )
    got = eventually(
        lambda: (m := metrics(p, shuffled))["accounts"] == expected["accounts"] and m,
        deadline_s=120,
        message="the shuffled history projected as the in-order one",
    )
    assert sum(a[1] for a in got["accounts"].values()) == 10  # deleted
    assert {a[0] for a in got["accounts"].values()} == {3, 4}
    outcomes = fetch_all(
        p.metrics_db,
        "SELECT outcome, count(*) AS n FROM inbox WHERE consumer = 'metrics-service' GROUP BY outcome",
    )
    assert {r["outcome"] for r in outcomes} == {"applied"}


def test_a_publication_that_arrives_after_its_successors_does_not_undo_it(platform, tmp_path):
    p = platform
    tenant = new_tenant(p, tmp_path, "late")
    upsert(p, tenant, accounts(n=300, seed=31))
    first, second = plans()
    third = {"WEST": first["WEST"][:30], "EAST": first["WEST"][30:] + first["EAST"]}
    with httpx.Client(base_url=p.geo_url, headers=tenant.headers, timeout=120) as geo:
        b, c = draft(geo, tenant.layer, second), draft(geo, tenant.layer, third)
        p.geo_relay.stop()
        try:
            for alignment in (b, c):
                assert geo.post(f"/v1/alignments/{alignment}/publish").status_code == 200
            # Hold B's publication back: C's reaches assignment-service first, as from another partition.
            held = fetch_all(
                p.geo_db,
                "SELECT event_id, topic, key, event_type, payload, created_at FROM outbox "
                "WHERE key = :b AND event_type = 'geo.alignment.published.v1' AND published_at IS NULL",
                b=b,
            )
            assert len(held) == 1
            execute(p.geo_db, "DELETE FROM outbox WHERE event_id = :e", e=held[0]["event_id"])
        finally:
            p.geo_relay.start()
    after_c = eventually(
        lambda: (
            [r["alignment_id"] for r in runs(p, tenant) if r["status"] == "completed"][-1:] == [c]
            and assignments(p, tenant)
        ),
        deadline_s=300,
        interval_s=0.5,
        message="C's realignment ran",
    )
    execute(
        p.geo_db,
        "INSERT INTO outbox (event_id, topic, key, event_type, payload, created_at) "
        "VALUES (:event_id, :topic, :key, :event_type, :payload, :created_at)",
        **held[0],
    )
    eventually(
        lambda: fetch_all(p.assignment_db, "SELECT outcome FROM inbox WHERE event_id = :e", e=held[0]["event_id"]),
        deadline_s=300,
        interval_s=0.5,
        message="B's publication reached assignment-service",
    )
    assert [r["alignment_id"] for r in runs(p, tenant)][1:] == [c]  # no run for B
    assert fetch_all(p.assignment_db, "SELECT alignment_id FROM sales_forces WHERE tenant_id = :t", t=tenant.name) == [
        {"alignment_id": c}
    ]
    assert assignments(p, tenant) == after_c
    eventually(
        lambda: fetch_all(p.metrics_db, "SELECT outcome FROM inbox WHERE event_id = :e", e=held[0]["event_id"]),
        deadline_s=300,
        message="B's publication reached metrics-service",
    )
    active = fetch_all(
        p.metrics_db,
        "SELECT alignment_id FROM alignment_projection WHERE tenant_id = :t AND state = 'active'",
        t=tenant.name,
    )
    assert active == [{"alignment_id": c}]


def test_with_geo_service_down_writes_are_refused_clearly_and_a_realignment_catches_up(platform, tmp_path):
    p = platform
    tenant = new_tenant(p, tmp_path, "geo-down")
    report = upsert(p, tenant, accounts(n=500, seed=5))
    _, second = plans()
    with (
        httpx.Client(base_url=p.geo_url, headers=tenant.headers, timeout=120) as geo,
        httpx.Client(base_url=p.assignment_url, headers=tenant.headers, timeout=120) as assignment,
    ):
        alignment = draft(geo, tenant.layer, second)
        preview = assignment.post(f"/v1/realignments/preview?alignment_id={alignment}").json()
        p.assignment_consumer.stop()
        assert geo.post(f"/v1/alignments/{alignment}/publish").status_code == 200
        p.geo_api.stop()
        try:
            ready = assignment.get("/readyz")
            assert ready.status_code == 200 and ready.json()["status"] == "degraded"
            assert ready.json()["dependencies"] == {"geo-service": False}
            refused = assignment.post("/v1/accounts/bulk", json=[{"external_id": "late", "lon": -78.6, "lat": 35.8}])
            assert refused.status_code == 503 and refused.headers["content-type"] == PROBLEM
            assert refused.json()["title"] == "geo-service unavailable" and "Retry-After" in refused.headers
            assert assignment.get("/v1/accounts/late").status_code == 404
            p.assignment_consumer.start()
            eventually(
                lambda: "geo-service did not answer" in p.assignment_consumer.log_tail(400),
                deadline_s=180,
                interval_s=0.5,
                message="the consumer met geo-service down",
            )
            assert len(runs(p, tenant)) == 1
        finally:
            if not p.geo_api.running:
                p.geo_api.start()
        eventually(lambda: assignment.get("/readyz").json()["status"] == "ready", deadline_s=120, message="geo is back")
        run = eventually(
            lambda: len(runs(p, tenant)) == 2 and runs(p, tenant)[-1]["status"] == "completed" and runs(p, tenant)[-1],
            deadline_s=300,
            interval_s=0.5,
            message="the realignment caught up",
        )
        changes = assignment.get(f"/v1/realignments/{run['id']}/changes?limit=10000").json()["items"]
        assert sorted((c["external_id"], c["to_territory_code"]) for c in changes) == sorted(
            (c["external_id"], c["to_territory_code"]) for c in preview["changes"]
        )
        assert run["accounts_moved"] == len(preview["changes"]) > 0
        dead = fetch_all(p.assignment_db, "SELECT count(*) AS n FROM inbox WHERE outcome = 'dead-lettered'")[0]["n"]
        assert dead == 0
        again = assignment.post("/v1/accounts/bulk", json=[{"external_id": "late", "lon": -78.6, "lat": 35.8}])
        assert again.status_code == 200 and again.json()["created"] == 1
    assert report["created"] == 500


def test_a_database_restart_is_reported_refused_cleanly_and_caught_up(platform, tmp_path):
    p = platform
    tenant = new_tenant(p, tmp_path, "db-restart")
    answers: list[tuple[int, str, int, bool]] = []  # status, problem title, batch number, during the outage
    stop, outage = threading.Event(), threading.Event()

    def write() -> None:
        batch = 0
        with httpx.Client(base_url=p.assignment_url, headers=tenant.headers, timeout=60) as client:
            while not stop.is_set():
                rows = [
                    {"external_id": f"b{batch}-{i}", "lon": -78.6 + i * 0.001, "lat": 35.8, "potential": 1.0}
                    for i in range(50)
                ]
                during = outage.is_set()
                r = client.post(
                    "/v1/accounts/bulk",
                    content=ndjson(rows),
                    headers={"content-type": "application/x-ndjson"},
                )
                title = r.json().get("title", "") if r.headers.get("content-type") == PROBLEM else ""
                assert r.status_code == 200 or r.headers.get("content-type") == PROBLEM, r.text
                answers.append((r.status_code, title, batch, during))
                batch += 1
                time.sleep(0.05)

    urls = {name: f"{base}/readyz" for name, base in (("geo", p.geo_url), ("assignment", p.assignment_url))}
    urls["metrics"] = f"{p.metrics_url}/readyz"
    writer = threading.Thread(target=write)
    writer.start()
    try:
        eventually(lambda: sum(a[0] == 200 for a in answers) >= 3, deadline_s=120, message="writes before")
        outage.set()
        p.postgres.stop()
        try:
            readiness = {name: httpx.get(url, timeout=30) for name, url in urls.items()}
            eventually(
                lambda: sum(a[0] == 503 for a in answers) >= 3, deadline_s=60, message="writes refused in the outage"
            )
        finally:
            p.postgres.start()
        eventually(
            lambda: all(httpx.get(url, timeout=30).status_code == 200 for url in urls.values()),
            deadline_s=120,
            interval_s=0.5,
            message="every service ready again",
        )
        outage.clear()
        eventually(
            lambda: sum(a[0] == 200 and not a[3] for a in answers[-5:]) >= 3,
            deadline_s=120,
            message="writes accepted again",
        )
    finally:
        stop.set()
        writer.join(120)
    for name, r in readiness.items():
        assert r.status_code == 503 and r.json()["checks"]["database"] is False, (name, r.text)
    assert {a[0] for a in answers} <= {200, 503}
    refused = [a for a in answers if a[0] == 503]
    assert refused and {a[1] for a in refused} <= {"Database unavailable", "Concurrent change"}, refused
    assert all(a[3] for a in refused), "a write failed outside the outage"
    # Each batch is applied whole or not at all.
    stored = fetch_all(p.assignment_db, "SELECT external_id FROM accounts WHERE tenant_id = :t", t=tenant.name)
    by_batch: dict[int, int] = {}
    for r in stored:
        b = int(str(r["external_id"]).split("-")[0][1:])
        by_batch[b] = by_batch.get(b, 0) + 1
    accepted = {a[2] for a in answers if a[0] == 200}
    assert set(by_batch) == accepted and set(by_batch.values()) == {50}
    # Relay and consumers came through by themselves and everything caught up.
    for process in (p.geo_relay, p.assignment_relay, p.assignment_consumer, p.consumer, p.metrics_relay):
        assert process.running, process.log_tail()
    got = eventually(
        lambda: pending(p.assignment_db) == 0 and len((m := metrics(p, tenant))["accounts"]) == len(stored) and m,
        deadline_s=300,
        interval_s=0.5,
        message="metrics caught up with every stored account",
    )
    assert got["events_applied"][0] == len(topic(p, "assignment.account", tenant))


def test_a_relay_killed_mid_batch_loses_and_duplicates_nothing(platform, tmp_path):
    p = platform
    tenant = new_tenant(p, tmp_path, "relay-kill")
    assert upsert(p, tenant, accounts(n=2_000, seed=23))["created"] == 2_000
    settled(p, tenant)
    # The same accounts elsewhere: 2,000 changes, and the accounts that change territory reassigned.
    moved = accounts(n=2_000, seed=24, potential_of=5)
    try:
        second = upsert_while(p, tenant, moved, p.assignment_relay.kill)
        # read once the upsert has committed (the kill may come before, when earlier events set it off)
        left = pending(p.assignment_db)
    finally:
        p.assignment_relay.start()
    assert left > 0, "the relay had sent everything before it was killed"
    assert second["updated"] == 2_000 and second["reassigned"] > 500
    got = settled(p, tenant)
    assert {k: (v[0], v[3]["potential"]) for k, v in got["accounts"].items()} == {
        r["external_id"]: (2, r["potential"]) for r in moved
    }
    events = topic(p, "assignment.account", tenant)
    assert sum(e["type"] == "assignment.account.upserted.v1" for e in events) == 4_000
    assert told_in_a_chain(events)
    owners = assignments(p, tenant)
    assert got["owners"] == owners_per_territory(owners)
    moved_to = {
        e["data"]["external_id"]: e["data"]["to_territory_code"] for e in events if e["type"].endswith("reassigned.v1")
    }
    assert all(owners[k][0] == code for k, code in moved_to.items())  # each account's last word is its owner


def test_a_realignment_published_while_the_broker_is_down_does_what_its_preview_said(platform, tmp_path):
    p = platform
    rows = accounts(n=3_000, seed=11)
    _, second = plans()
    tenant = new_tenant(p, tmp_path, "realign")
    assert upsert(p, tenant, rows)["created"] == 3_000
    settled(p, tenant)
    before = assignments(p, tenant)
    with (
        httpx.Client(base_url=p.geo_url, headers=tenant.headers, timeout=120) as geo,
        httpx.Client(base_url=p.assignment_url, headers=tenant.headers, timeout=120) as assignment,
    ):
        alignment = draft(geo, tenant.layer, second)
        preview = assignment.post(
            "/v1/realignments/preview", params={"alignment_id": alignment, "changes_listed": 100_000}
        ).json()
        p.broker.stop()
        try:
            assert geo.post(f"/v1/alignments/{alignment}/publish").status_code == 200
            assert pending(p.geo_db) > 0, "the publication is kept in geo-service's outbox"
            ready = httpx.get(f"{p.geo_url}/readyz", timeout=30)
            assert ready.status_code == 503 and ready.json()["checks"]["broker"] is False
            assert [r["status"] for r in runs(p, tenant)] == ["completed"]  # only the first one
        finally:
            p.broker.start()
    run = eventually(
        lambda: len(runs(p, tenant)) == 2 and runs(p, tenant)[-1]["status"] == "completed" and runs(p, tenant)[-1],
        deadline_s=600,
        interval_s=0.5,
        message="the realignment ran once the broker was back",
    )
    changes = preview["changes"]
    assert run["alignment_id"] == alignment and run["accounts_moved"] == len(changes) > 200
    expected = dict(before) | {c["external_id"]: (c["to_territory_code"], c["to_rep_external_id"]) for c in changes}
    assert assignments(p, tenant) == expected

    got = settled(p, tenant)
    assert got["owners"] == owners_per_territory(expected)
    projected = {k: v[2] for k, v in got["accounts"].items()}
    wanted = {r["external_id"]: expected[r["external_id"]][0] for r in rows}

    account_events = topic(p, "assignment.account", tenant)
    assert told_in_a_chain(account_events)
    assert [r for r in reassignments(account_events) if r[4] == "realignment"] == sorted(
        (c["external_id"], c["from_territory_code"], c["to_territory_code"], c["to_rep_external_id"], "realignment")
        for c in changes
    )
    told = [n for n in topic(p, "assignment.realignment", tenant) if n["data"]["run_id"] == run["id"]]
    assert len(told) == 1
    assert told[0]["data"]["accounts_moved"] == len(changes)
    assert sorted(
        (r["rep_external_id"] or "", r["accounts_gained"], r["accounts_lost"]) for r in told[0]["data"]["reps"]
    ) == sorted((r["rep_external_id"] or "", r["accounts_gained"], r["accounts_lost"]) for r in preview["reps"])

    assert projected == wanted


def test_a_10000_account_upsert_relayed_across_a_broker_outage_loses_and_duplicates_nothing(platform, tmp_path):
    p = platform
    rows = accounts()
    tenant = new_tenant(p, tmp_path, "outage")
    try:
        # A crash, not a clean stop: the broker goes at once, while the relay still has the upsert's events to send
        report = upsert_while(p, tenant, rows, p.broker.crash)
        # read once the upsert has committed (the crash may come before, when earlier events set it off)
        left = pending(p.assignment_db)
        ready = httpx.get(f"{p.assignment_url}/readyz", timeout=30)
    finally:
        p.broker.start()
    assert left > 0, "the relay had sent everything before the broker went down"
    assert ready.status_code == 503 and ready.json()["checks"]["broker"] is False
    assert (report["created"], report["updated"], report["rejected"], report["reassigned"]) == (10_000, 0, 0, 0)

    expected = located(p, tenant, rows)
    assert assignments(p, tenant) == expected
    assert len({code for code, _ in expected.values()}) == 3  # WEST, EAST and outside both
    got = settled(p, tenant)
    assert got["accounts"] == {
        r["external_id"]: (1, False, expected[r["external_id"]][0], {"potential": r["potential"]}) for r in rows
    }
    assert got["owners"] == owners_per_territory(expected)
    events = topic(p, "assignment.account", tenant)
    # Each account told twice, once each: upserted, and its first owner.
    for kind in ("assignment.account.upserted.v1", "assignment.account.reassigned.v1"):
        told = sorted(e["data"]["external_id"] for e in events if e["type"] == kind)
        assert told == sorted(r["external_id"] for r in rows), kind
    assert told_in_a_chain(events)
