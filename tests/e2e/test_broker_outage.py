"""With the Kafka broker stopped, geo-service keeps accepting changes; they arrive once it is back."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.events import projection
from tests.e2e.platforms import DistributedPlatform
from tests.support.auth import auth_headers, tenant_of
from tests.support.databases import fetch_all
from tests.support.processes import eventually

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts" / "infra"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DistributedPlatform]:
    p = DistributedPlatform(tmp_path_factory.mktemp("platform-outage"))
    try:
        p.start()
        yield p
    finally:
        # Whatever happened, leave a running broker for the tests after this one.
        subprocess.run(["bash", str(SCRIPTS / "kafka-start.sh")], check=True, capture_output=True)
        p.close()


def test_changes_made_while_the_broker_is_down_are_kept_and_arrive_after_it_restarts(platform):
    tenant = auth_headers(f"outage-{uuid.uuid4().hex[:8]}")
    subprocess.run(["bash", str(SCRIPTS / "kafka-stop.sh")], check=True, capture_output=True)

    with httpx.Client(base_url=platform.geo_url, headers=tenant, timeout=10) as geo:
        ids = [geo.post("/v1/territories", json={"code": f"O{i}", "name": "o"}).json()["id"] for i in range(20)]
        geo.patch(f"/v1/territories/{ids[0]}", json={"name": "renamed during the outage"})
    time.sleep(2)
    pending = fetch_all(platform.geo_db, "SELECT key FROM outbox WHERE published_at IS NULL")
    assert set(ids) <= {r["key"] for r in pending}, "changes were not kept in the outbox during the outage"
    assert projection(platform.metrics_db, tenant_of(tenant)) == {}

    subprocess.run(["bash", str(SCRIPTS / "kafka-start.sh")], check=True, capture_output=True)
    eventually(
        lambda: len(projection(platform.metrics_db, tenant_of(tenant))) == 20,
        deadline_s=300,  # the broker's restart and the consumer's return to its group, on a loaded machine
        interval_s=0.5,
        message="all 20 territories projected after the broker restart",
    )
    rows = projection(platform.metrics_db, tenant_of(tenant))
    assert rows[ids[0]]["name"] == "renamed during the outage" and rows[ids[0]]["events_applied"] == 2
    assert all(rows[t]["events_applied"] == 1 for t in ids[1:])
    assert fetch_all(platform.geo_db, "SELECT count(*) AS n FROM outbox WHERE published_at IS NULL")[0]["n"] == 0
