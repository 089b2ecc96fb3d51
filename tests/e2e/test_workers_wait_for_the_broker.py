"""A relay and a consumer started while the Kafka broker is down wait for it, say they are not ready, and start
working on their own once it is up: every change made meanwhile is delivered and applied exactly once, without
restarting anything by hand. When the broker goes away again later they keep retrying, and catch up once more.

The platform runs on a broker of its own (started only midway), so the shared one and everyone's tests are left
alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.events import projection
from tests.e2e.faults import pending
from tests.e2e.platforms import DistributedPlatform
from tests.support.auth import auth_headers, tenant_of
from tests.support.databases import fetch_all
from tests.support.private_infra import PrivateKafka
from tests.support.processes import eventually, free_port, wait_ready

pytestmark = [pytest.mark.postgis, pytest.mark.kafka, pytest.mark.timeout(1500)]


class LateBrokerPlatform(DistributedPlatform):
    broker: PrivateKafka
    relay_probe: str
    consumer_probe: str


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LateBrokerPlatform]:
    workdir = tmp_path_factory.mktemp("late-broker")
    broker = PrivateKafka(workdir)  # not started: the processes come up first
    p = LateBrokerPlatform(workdir, kafka=broker.bootstrap)
    p.broker = broker
    relay_port, consumer_port = free_port(), free_port()
    p.geo_relay.env["GEO_METRICS_PORT"] = str(relay_port)
    p.consumer.env["METRICS_METRICS_PORT"] = str(consumer_port)
    p.relay_probe, p.consumer_probe = f"http://127.0.0.1:{relay_port}", f"http://127.0.0.1:{consumer_port}"
    try:
        for proc in p.processes:
            proc.start()
        # The APIs do not need the broker to take changes (they write the outbox); their readiness would wait for it.
        wait_ready(f"{p.geo_url}/healthz", p.geo_api, deadline_s=600)
        wait_ready(f"{p.metrics_url}/healthz", p.metrics_api, deadline_s=600)
        yield p
    finally:
        try:
            p.close()
        finally:
            broker.close()


def readiness(url: str) -> tuple[int, dict]:
    try:
        r = httpx.get(f"{url}/readyz", timeout=15)
        return r.status_code, r.json()
    except httpx.HTTPError:
        return 0, {}


def gauge(url: str, name: str) -> float | None:
    try:
        text = httpx.get(f"{url}/prometheus", timeout=10).text
    except httpx.HTTPError:
        return None
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels.get("service") == "geo-service":
                return sample.value
    return None


def test_a_relay_and_a_consumer_started_before_the_broker_deliver_everything_once_it_is_up(platform):
    relay, consumer = platform.geo_relay, platform.consumer
    relay_pid, consumer_pid = relay.proc.pid, consumer.proc.pid
    for url, name in ((platform.relay_probe, "relay"), (platform.consumer_probe, "consumer")):
        eventually(
            lambda url=url: readiness(url) == (503, {"status": "waiting", "waiting_for": "broker"}),
            deadline_s=300,
            interval_s=0.5,
            message=f"the {name} migrated and waits for the broker",
        )

    tenant = auth_headers(f"late-{uuid.uuid4().hex[:8]}")
    with httpx.Client(base_url=platform.geo_url, headers=tenant, timeout=30) as geo:
        ids = [geo.post("/v1/territories", json={"code": f"L{i}", "name": "l"}).json()["id"] for i in range(20)]
        assert geo.patch(f"/v1/territories/{ids[0]}", json={"name": "renamed before the broker"}).status_code == 200
    assert pending(platform.geo_db) == 21

    # The operator sees the backlog and how long it has waited, on the relay that waits.
    eventually(
        lambda: (
            gauge(platform.relay_probe, "territory_outbox_pending_events") == 21
            and (gauge(platform.relay_probe, "territory_outbox_oldest_pending_age_seconds") or 0) > 0
        ),
        deadline_s=60,
        interval_s=0.5,
        message="the relay reports the backlog and its age",
    )
    assert relay.running and consumer.running, relay.log_tail() + consumer.log_tail()
    assert projection(platform.metrics_db, tenant_of(tenant)) == {}

    platform.broker.start()
    eventually(
        lambda: len(projection(platform.metrics_db, tenant_of(tenant))) == 20,
        deadline_s=300,  # the consumer's next try, then joining its group, on a loaded machine
        interval_s=0.5,
        message=f"all 20 territories projected once the broker is up\n{relay.log_tail()}\n{consumer.log_tail()}",
    )
    rows = projection(platform.metrics_db, tenant_of(tenant))
    assert rows[ids[0]]["name"] == "renamed before the broker" and rows[ids[0]]["events_applied"] == 2
    assert all(rows[t]["events_applied"] == 1 for t in ids[1:])
    assert pending(platform.geo_db) == 0
    for url in (platform.relay_probe, platform.consumer_probe):
        eventually(
            lambda url=url: readiness(url) == (200, {"status": "ready", "checks": {"database": True, "broker": True}}),
            deadline_s=60,
            interval_s=0.5,
        )
    eventually(
        lambda: gauge(platform.relay_probe, "territory_outbox_oldest_pending_age_seconds") == 0,
        deadline_s=60,
        interval_s=0.5,
        message="the backlog's age is back to 0",
    )
    assert (relay.proc.pid, consumer.proc.pid) == (relay_pid, consumer_pid), "a process was restarted"

    # Later the broker goes away: the processes stay, report it, and catch up when it is back.
    platform.broker.stop()
    for url in (platform.relay_probe, platform.consumer_probe):
        eventually(lambda url=url: readiness(url)[0] == 503, deadline_s=60, interval_s=0.5)
    with httpx.Client(base_url=platform.geo_url, headers=tenant, timeout=30) as geo:
        for t in ids[:5]:
            assert geo.patch(f"/v1/territories/{t}", json={"name": "renamed in the outage"}).status_code == 200
    eventually(lambda: pending(platform.geo_db) == 5, deadline_s=30, interval_s=0.2)
    assert relay.running and consumer.running, relay.log_tail() + consumer.log_tail()

    platform.broker.start()

    def caught_up() -> bool:
        rows = projection(platform.metrics_db, tenant_of(tenant))
        return all(rows[t]["name"] == "renamed in the outage" for t in ids[:5])

    eventually(caught_up, deadline_s=300, interval_s=0.5, message=f"renames applied\n{consumer.log_tail()}")
    rows = projection(platform.metrics_db, tenant_of(tenant))
    assert rows[ids[0]]["events_applied"] == 3 and all(rows[t]["events_applied"] == 2 for t in ids[1:5])
    assert all(rows[t]["events_applied"] == 1 for t in ids[5:])
    assert pending(platform.geo_db) == 0
    inbox = fetch_all(platform.metrics_db, "SELECT event_id FROM inbox WHERE consumer = 'metrics-service'")
    assert len(inbox) == len({r["event_id"] for r in inbox})
    assert (relay.proc.pid, consumer.proc.pid) == (relay_pid, consumer_pid) and relay.running and consumer.running
