"""Events from geo-service reach metrics-service exactly once and in order, in both ways to run.

Each test runs against the distributed platform (separate processes, PostGIS, Apache Kafka) and the
embedded one (one process, SQLite, the in-process bus).
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict

import httpx
from territory_shared.events.geo import TerritoryCreatedV1

from tests.e2e.events import TOPIC, event, inbox, projection, territory_history, versions_by_event_id
from tests.e2e.platforms import Platform
from tests.support.auth import auth_headers, tenant_of
from tests.support.processes import eventually


def new_tenant() -> dict[str, str]:
    return auth_headers(f"e2e-{uuid.uuid4().hex[:10]}")


def count(platform: Platform, tenant: dict[str, str]) -> int:
    r = httpx.get(f"{platform.metrics_url}/v1/territory-count", headers=tenant, timeout=5)
    r.raise_for_status()
    return int(r.json()["territories"])


def test_a_created_territory_is_counted_by_metrics_within_a_second(platform: Platform):
    tenant = new_tenant()
    r = httpx.post(f"{platform.geo_url}/v1/territories", json={"code": "T1", "name": "One"}, headers=tenant)
    assert r.status_code == 201, r.text
    started = time.monotonic()
    eventually(lambda: count(platform, tenant) == 1, deadline_s=10, interval_s=0.02, message="count == 1")
    assert time.monotonic() - started < 1.0


def test_a_thousand_territory_changes_arrive_exactly_once_in_order_per_territory(platform: Platform):
    tenant = new_tenant()
    with httpx.Client(base_url=platform.geo_url, headers=tenant, timeout=10) as geo:
        ids = [geo.post("/v1/territories", json={"code": f"C{i}", "name": "n"}).json()["id"] for i in range(100)]
        for v in range(2, 11):  # 9 renames each, interleaved across territories: 1,000 changes in all
            for tid in ids:
                r = geo.patch(f"/v1/territories/{tid}", json={"name": f"n{v}"}, headers={"If-Match": f'"{v - 1}"'})
                assert r.status_code == 200, r.text
    subjects = set(ids)
    eventually(lambda: len(inbox(platform.metrics_db, subjects)) >= 1000, deadline_s=120, message="1,000 in inbox")

    received = inbox(platform.metrics_db, subjects)
    assert len(received) == 1000 and all(r["outcome"] == "applied" for r in received)
    assert len({r["event_id"] for r in received}) == 1000
    versions = versions_by_event_id(platform.geo_db, subjects)
    order: dict[str, list[int]] = defaultdict(list)
    for r in received:
        key, version = versions[str(r["event_id"])]
        order[key].append(version)
    assert all(seq == list(range(1, 11)) for seq in order.values()), "events of a territory arrived out of order"
    rows = projection(platform.metrics_db, tenant_of(tenant))
    assert {r["events_applied"] for r in rows.values()} == {10}
    assert {r["name"] for r in rows.values()} == {"n10"}
    assert count(platform, tenant) == 100


def test_an_event_delivered_twice_is_applied_once(platform: Platform):
    tenant = tenant_of(new_tenant())
    tid, marker = str(uuid.uuid4()), str(uuid.uuid4())
    dup = event(
        tenant,
        tid,
        TerritoryCreatedV1(territory_id=tid, code="D", name="d", version=1),
        "geo.territory.created.v1",
    ).to_bytes()
    after = event(
        tenant,
        marker,
        TerritoryCreatedV1(territory_id=marker, code="M", name="m", version=1),
        "geo.territory.created.v1",
    ).to_bytes()
    # Same key: one partition, so the marker is handled after both copies.
    platform.inject(TOPIC, [(tid, dup), (tid, dup), (tid, after)])
    eventually(lambda: len(projection(platform.metrics_db, tenant)) == 2, message="both territories projected")
    assert projection(platform.metrics_db, tenant)[tid]["events_applied"] == 1
    assert len(inbox(platform.metrics_db, {tid})) == 1


def test_a_consumer_killed_mid_batch_and_restarted_applies_every_event_exactly_once(platform: Platform):
    tenant = tenant_of(new_tenant())
    history = territory_history(tenant, territories=400, versions=10)  # 4,000 events
    subjects = {key for key, _ in history}
    platform.stop_consumer()
    platform.inject(TOPIC, history)
    platform.start_consumer()

    def progressed() -> int:
        done = len(inbox(platform.metrics_db, subjects))
        return done if done >= 200 else 0

    done_at_kill = eventually(progressed, deadline_s=120, interval_s=0.01, message="consumer made progress")
    platform.kill_consumer()
    assert done_at_kill < len(history), "the consumer finished before it could be killed mid-batch"
    platform.start_consumer()
    eventually(
        lambda: len(inbox(platform.metrics_db, subjects)) >= len(history),
        deadline_s=180,
        message="all events in the inbox after the restart",
    )
    rows = projection(platform.metrics_db, tenant)
    assert len(rows) == 400
    assert {r["events_applied"] for r in rows.values()} == {10}
    assert {r["version"] for r in rows.values()} == {10}
    assert len({r["event_id"] for r in inbox(platform.metrics_db, subjects)}) == len(history)


def test_an_event_that_keeps_failing_goes_to_the_dead_letter_topic_and_the_next_is_applied(
    platform: Platform,
):
    tenant = tenant_of(new_tenant())
    tid = str(uuid.uuid4())
    good = event(
        tenant,
        tid,
        TerritoryCreatedV1(territory_id=tid, code="G", name="g", version=1),
        "geo.territory.created.v1",
    )
    poison = good.model_copy(
        update={"id": str(uuid.uuid4()), "type": "geo.territory.renamed.v1", "data": {"territory_id": tid}}
    )  # misses code, name and version
    platform.inject(TOPIC, [(tid, poison.to_bytes()), (tid, good.to_bytes())])
    eventually(lambda: tid in projection(platform.metrics_db, tenant), message="the next event applied")
    letters = [h for v, h in platform.dead_letters() if poison.id.encode() in v]
    assert len(letters) == 1
    assert "Field required" in letters[0]["dlq-reason"]
    assert letters[0]["dlq-original-topic"] == TOPIC
    outcomes = {r["event_id"]: r["outcome"] for r in inbox(platform.metrics_db, {tid})}
    assert outcomes == {poison.id: "dead-lettered", good.id: "applied"}
