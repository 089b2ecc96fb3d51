"""metrics-service keeps its territory projection from events, on SQLite and on PostGIS."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from metrics_service.api.app import create_app
from metrics_service.settings import MetricsSettings
from territory_shared.events.envelope import new_event
from territory_shared.events.geo import TerritoryCreatedV1, TerritoryDeletedV1, TerritoryRenamedV1
from territory_shared.messaging.bus import OutgoingMessage
from territory_shared.messaging.inprocess_bus import InProcessBus

from tests.support.auth import auth_headers
from tests.support.databases import database_url  # noqa: F401 - fixture

pytestmark = pytest.mark.postgis


@pytest.fixture(scope="module")
def bus(tmp_path_factory: pytest.TempPathFactory) -> InProcessBus:
    return InProcessBus(tmp_path_factory.mktemp("bus") / "bus.sqlite")


@pytest.fixture(scope="module")
def client(database_url: str, bus: InProcessBus) -> Iterator[TestClient]:  # noqa: F811
    settings = MetricsSettings(database_url=database_url, consumer_max_attempts=2, consumer_retry_backoff_s=0)
    with TestClient(create_app(settings, bus=bus, run_workers_in_process=True)) as c:
        yield c


def publish(client: TestClient, bus: InProcessBus, tenant: str, *datas) -> None:  # type: ignore[no-untyped-def]
    types = {
        TerritoryCreatedV1: "geo.territory.created.v1",
        TerritoryRenamedV1: "geo.territory.renamed.v1",
        TerritoryDeletedV1: "geo.territory.deleted.v1",
    }
    events = [
        new_event(source="/test", type=types[type(d)], subject=d.territory_id, tenant_id=tenant, data=d) for d in datas
    ]
    messages = [OutgoingMessage("geo.territory", e.subject, e.to_bytes()) for e in events]
    # The consumer runs on the app's loop, inside the test client's portal.
    client.portal.call(bus.publisher().publish, messages)


def count_becomes(client: TestClient, tenant: str, expected: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        got = client.get("/v1/territory-count", headers=auth_headers(tenant)).json()["territories"]
        if got == expected:
            return
        time.sleep(0.02)
    raise AssertionError(f"territory count stayed {got}, expected {expected}")


def test_created_renamed_and_deleted_territories_are_counted_per_tenant(client, bus):
    tenant, other = f"a-{uuid.uuid4().hex[:6]}", f"b-{uuid.uuid4().hex[:6]}"
    t1, t2, t3 = (str(uuid.uuid4()) for _ in range(3))
    publish(
        client,
        bus,
        tenant,
        TerritoryCreatedV1(territory_id=t1, code="A", name="a", version=1),
        TerritoryCreatedV1(territory_id=t2, code="B", name="b", version=1),
        TerritoryRenamedV1(territory_id=t1, code="A", name="a2", version=2),
        TerritoryDeletedV1(territory_id=t2, version=2),
    )
    publish(client, bus, other, TerritoryCreatedV1(territory_id=t3, code="C", name="c", version=1))
    count_becomes(client, tenant, 1)
    count_becomes(client, other, 1)


def test_a_stale_event_is_ignored_and_a_gap_is_not_silently_applied(client, bus):
    tenant = f"s-{uuid.uuid4().hex[:6]}"
    t1, t2 = str(uuid.uuid4()), str(uuid.uuid4())
    publish(
        client,
        bus,
        tenant,
        TerritoryCreatedV1(territory_id=t1, code="A", name="a", version=1),
        TerritoryRenamedV1(territory_id=t1, code="A", name="old", version=1),  # stale: ignored
        TerritoryDeletedV1(territory_id=t1, version=5),  # skips versions 2-4: refused, dead-lettered
        TerritoryCreatedV1(territory_id=t2, code="B", name="b", version=1),
    )
    count_becomes(client, tenant, 2)


def test_the_count_needs_credentials(client):
    r = client.get("/v1/territory-count")
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"


def test_readiness_reports_the_database(client):
    assert client.get("/readyz").json()["checks"] == {"database": True}
