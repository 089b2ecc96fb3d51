"""A publish scheduled a few seconds ahead, with the geo-service process that would run it killed just before the
time and started again after it: the draft is published once when the worker is back, assignment-service applies it
in one realignment run, and one ``assignment.realignment.completed.v1`` notice tells it. Separate processes on
PostGIS and Apache Kafka."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from kafka import KafkaConsumer

from tests.e2e.assignment_platform import (
    DURHAM,
    DURHAM_CITY,
    MECKLENBURG,
    RALEIGH,
    WAKE,
    DistributedAssignmentPlatform,
    draft,
    import_nc,
    owners,
    publish,
)
from tests.support.auth import auth_headers
from tests.support.processes import eventually

ZONE = "America/Chicago"
LEAD_S = 25  # from scheduling to the time: enough to kill the worker first on a loaded machine


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DistributedAssignmentPlatform]:
    p = DistributedAssignmentPlatform(tmp_path_factory.mktemp("scheduled-publish"))
    # The schedule worker wakes every second; a geo event sent twice would show as two publications.
    p.geo_relay.env |= {"GEO_SCHEDULE_POLL_S": "0.5"}
    try:
        p.start()
        yield p
    finally:
        p.close()


def events(p: DistributedAssignmentPlatform, topic: str, tenant: str) -> list[dict]:
    """The tenant's events on a topic as sent, copies included (a relay killed mid-batch may send one twice: the
    event id tells a copy from a second event)."""
    consumer = KafkaConsumer(
        p.prefix + topic,
        bootstrap_servers=p.kafka,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=6000,
    )
    try:
        return [e for r in consumer if (e := json.loads(r.value))["tenantid"] == tenant]
    finally:
        consumer.close()


def once_each(told: list[dict]) -> list[dict]:
    return list({e["id"]: e for e in told}.values())


@pytest.mark.timeout(900)
def test_a_publish_scheduled_while_its_worker_is_down_happens_once_when_it_is_back(
    platform: DistributedAssignmentPlatform, tmp_path
):
    tenant = f"sched-{uuid.uuid4().hex[:10]}"
    planner = auth_headers(tenant, "planner", sub="pat@example.com")
    with (
        httpx.Client(base_url=platform.geo_url, headers=planner, timeout=60) as geo,
        httpx.Client(base_url=platform.assignment_url, headers=planner, timeout=60) as assignment,
    ):
        layer = import_nc(geo, tmp_path)
        first = publish(geo, assignment, draft(geo, layer, {"EAST": [WAKE, DURHAM], "WEST": [MECKLENBURG]}))
        rows = [
            {"external_id": "raleigh", "lat": RALEIGH[1], "lon": RALEIGH[0], "potential": 100},
            {"external_id": "durham", "lat": DURHAM_CITY[1], "lon": DURHAM_CITY[0], "potential": 40},
        ]
        r = assignment.post(
            "/v1/accounts/bulk",
            content="\n".join(json.dumps(x) for x in rows).encode(),
            headers={"content-type": "application/x-ndjson"},
        )
        assert r.status_code == 200, r.text
        assert owners(assignment) == {"raleigh": "EAST", "durham": "EAST"}

        # Durham goes to WEST in the draft, published at a wall-clock time in Chicago a few seconds from now.
        second = draft(geo, layer, {"EAST": [WAKE], "WEST": [MECKLENBURG, DURHAM]})
        local = datetime.now(ZoneInfo(ZONE)).replace(microsecond=0, tzinfo=None) + timedelta(seconds=LEAD_S)
        scheduled = geo.post(
            f"/v1/alignments/{second}/schedule", json={"effective_at": local.isoformat(), "time_zone": ZONE}
        )
        assert scheduled.status_code == 201, scheduled.text
        schedule = scheduled.json()
        assert schedule["state"] == "scheduled" and schedule["created_by"] == "pat@example.com"
        due = datetime.fromisoformat(schedule["effective_at"])
        assert due == local.replace(tzinfo=ZoneInfo(ZONE))

        # The process whose worker would publish it dies (SIGKILL) just before the time, and stays down past it.
        time.sleep(max(0.0, (due - datetime.now(due.tzinfo)).total_seconds() - 2))
        assert geo.get(f"/v1/schedules/{schedule['id']}").json()["state"] == "scheduled"
        platform.geo_relay.kill()
        time.sleep(max(0.0, (due - datetime.now(due.tzinfo)).total_seconds() + 3))
        assert geo.get(f"/v1/alignments/{second}").json()["state"] == "draft"
        assert geo.get(f"/v1/schedules/{schedule['id']}").json()["state"] == "scheduled"

        # Back: it catches up on what fell due while it was down.
        platform.geo_relay.start()
        done = eventually(
            lambda: (s := geo.get(f"/v1/schedules/{schedule['id']}").json())["state"] != "scheduled" and s,
            deadline_s=180,
            message="the schedule handled once the worker is back",
        )
        assert done["state"] == "done", done
        assert geo.get(f"/v1/alignments/{second}").json()["state"] == "active"
        assert geo.get(f"/v1/alignments/{first['alignment_id']}").json()["state"] == "archived"

        run = eventually(
            lambda: next(
                (
                    x
                    for x in assignment.get("/v1/realignments").json()
                    if x["alignment_id"] == second and x["status"] == "completed"
                ),
                None,
            ),
            deadline_s=180,
            message="assignment-service applied the scheduled publication",
        )
        assert owners(assignment) == {"raleigh": "EAST", "durham": "WEST"}
        assert run["accounts_moved"] == 1
        # The change is the planner's who scheduled it, in both services.
        assert run["started_by"] == "pat@example.com"

        # Killed and started once more: nothing is published or applied again.
        platform.geo_relay.kill()
        platform.geo_relay.start()
        time.sleep(5)
        published = [
            e
            for e in once_each(events(platform, "geo.alignment", tenant))
            if e["type"] == "geo.alignment.published.v1" and e["data"]["alignment_id"] == second
        ]
        assert len({e["data"]["part"] for e in published}) == len(published) >= 1  # one publication, in parts
        assert {e["data"]["version"] for e in published} == {published[0]["data"]["version"]}
        runs = [x for x in assignment.get("/v1/realignments").json() if x["alignment_id"] == second]
        assert [x["id"] for x in runs] == [run["id"]]
        notices = eventually(
            lambda: [
                e
                for e in once_each(events(platform, "assignment.realignment", tenant))
                if e["type"] == "assignment.realignment.completed.v1" and e["data"]["alignment_id"] == second
            ],
            deadline_s=60,
            message="the realignment notice on the topic",
        )
        assert [n["data"]["run_id"] for n in notices] == [run["id"]]
        assert notices[0]["data"]["accounts_moved"] == 1
        assert geo.get(f"/v1/schedules/{schedule['id']}").json()["state"] == "done"
