"""A bulk upsert asks geo-service where its accounts are before it takes the tenant's lock: a slow geo-service
holds up no other write of the tenant, and an alignment applied in between is not lost."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from .conftest import upsert
from .geography import DURHAM, DURHAM_CITY, RALEIGH, WAKE, draft, import_nc, owners, publish

pytestmark = pytest.mark.postgis
WAIT_S = 60


class GatedGeo:
    """The app's geo-service client, whose first ``locate`` answers, then waits for the test to let it return."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.asked = threading.Event()
        self.release = threading.Event()
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def locate(self, *args: Any, **kw: Any) -> Any:
        self.calls += 1
        answer = await self.inner.locate(*args, **kw)
        if self.calls == 1:
            self.asked.set()
            deadline = time.monotonic() + WAIT_S
            while not self.release.is_set() and time.monotonic() < deadline:
                await _sleep()
        return answer


async def _sleep() -> None:
    import asyncio

    await asyncio.sleep(0.02)


@pytest.fixture
def gated(client) -> Iterator[GatedGeo]:  # type: ignore[no-untyped-def]
    app = client.app.state.assignment
    geo = GatedGeo(app.state.geo)
    app.state.geo = geo
    try:
        yield geo
    finally:
        geo.release.set()
        app.state.geo = geo.inner


def account(external_id: str, point: tuple[float, float]) -> dict[str, Any]:
    return {"external_id": external_id, "lon": point[0], "lat": point[1], "potential": 10}


def test_other_writes_of_the_tenant_go_through_while_an_upsert_waits_for_geo_service(client, tenant, tmp_path, gated):
    layer = import_nc(client, tenant, tmp_path)
    publish(client, tenant, draft(client, tenant, layer, {"EAST": [WAKE], "WEST": [DURHAM]}))
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(upsert, client, tenant, [account("raleigh-1", RALEIGH)])
        assert gated.asked.wait(WAIT_S), "the upsert asked geo-service"
        # While geo-service has not answered: a rep, and another bulk upsert (which takes the same lock).
        rep = client.put("/v1/reps/r-1", json={"name": "Rita", "capacity_hours": 1600}, headers=tenant, timeout=10)
        other = upsert(client, tenant, [account("durham-1", DURHAM_CITY)], timeout=10)
        waiting = not slow.done()
        gated.release.set()
        answer = slow.result(WAIT_S)
    assert rep.status_code == 201, rep.text
    assert other.status_code == 200 and other.json()["created"] == 1, other.text
    assert waiting, "the upsert was still waiting for geo-service while the other writes went through"
    assert answer.status_code == 200 and answer.json()["created"] == 1, answer.text
    assert {k: v[0] for k, v in owners(client, tenant).items()} == {"raleigh-1": "EAST", "durham-1": "WEST"}


def test_an_alignment_applied_between_locating_and_locking_is_the_one_the_upsert_assigns_by(
    client, tenant, tmp_path, gated
):
    layer = import_nc(client, tenant, tmp_path)
    publish(client, tenant, draft(client, tenant, layer, {"EAST": [WAKE], "WEST": [DURHAM]}))
    second = draft(client, tenant, layer, {"EAST": [], "WEST": [WAKE, DURHAM]})
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(upsert, client, tenant, [account("raleigh-1", RALEIGH)])
        assert gated.asked.wait(WAIT_S), "the upsert asked geo-service"
        # geo-service answered by the first alignment; the second is published and applied before the upsert
        # takes the lock.
        run = publish(client, tenant, second)
        gated.release.set()
        answer = slow.result(WAIT_S)
    assert answer.status_code == 200, answer.text
    assert gated.calls >= 2, "located again after the lock"
    assert owners(client, tenant)["raleigh-1"][0] == "WEST"
    assert run["status"] == "completed"
