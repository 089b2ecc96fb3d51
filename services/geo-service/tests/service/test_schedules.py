"""Scheduled publishing: a draft published by geo-service at a time given in an IANA time zone, exactly once."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from geo_service.api.app import create_app
from geo_service.settings import GeoSettings

from tests.support.auth import auth_headers
from tests.support.databases import fetch_all
from tests.support.processes import eventually

from .boundaries import WAKE
from .conftest import nc_layer, new_draft
from .test_alignments import move, outbox_types, territory
from .test_approvals import outbox_data

pytestmark = pytest.mark.postgis

TENANT = "schedules"
ADMIN = auth_headers(TENANT, "admin", sub="root")
PAULA = auth_headers(TENANT, "planner", sub="paula")
ALICE = auth_headers(TENANT, "manager", sub="alice")
LATER = {"effective_at": "2031-01-06T08:00:00", "time_zone": "America/Chicago"}


@pytest.fixture(scope="module")
def layer(client, tmp_path_factory) -> str:
    return nc_layer(client, ADMIN, tmp_path_factory.mktemp("nc"))


def draft(client, layer, sales_force) -> dict:
    return new_draft(client, PAULA, layer, sales_force)


def schedule(client, alignment_id, body=LATER, headers=PAULA):
    return client.post(f"/v1/alignments/{alignment_id}/schedule", json=body, headers=headers)


def soon(seconds: float) -> dict[str, str]:
    """A wall-clock time ``seconds`` from now, in UTC."""
    at = datetime.now(UTC) + timedelta(seconds=seconds)
    return {"effective_at": at.replace(tzinfo=None).isoformat(timespec="milliseconds"), "time_zone": "UTC"}


def run_worker_pass(client, now: datetime | None = None) -> int:
    """One pass of the schedule worker of the service under test (the current time unless ``now`` is given)."""
    return client.portal.call(client.app.state.schedules.run_once, now)


def a_minute_from_now() -> datetime:
    return datetime.now(UTC) + timedelta(seconds=60)


def state_of(client, alignment_id) -> str:
    return client.get(f"/v1/alignments/{alignment_id}", headers=PAULA).json()["state"]


def get_schedule(client, schedule_id) -> dict:
    r = client.get(f"/v1/schedules/{schedule_id}", headers=ALICE)
    assert r.status_code == 200, r.text
    return r.json()


def test_a_schedule_names_its_local_time_and_zone_and_is_listed_read_and_cancelled(client, layer, sales_force):
    a = draft(client, layer, sales_force)
    r = schedule(client, a["id"])
    assert r.status_code == 201, r.text
    s = r.json()
    assert r.headers["location"].endswith(f"/v1/schedules/{s['id']}")
    # 08:00 in Chicago in January (CST, UTC-6) is 14:00 UTC.
    assert datetime.fromisoformat(s["effective_at"]) == datetime(2031, 1, 6, 14, 0, tzinfo=UTC)
    assert datetime.fromisoformat(s["effective_at"]).utcoffset() == timedelta(0)
    assert (s["local_time"], s["time_zone"], s["state"], s["created_by"]) == (
        "2031-01-06T08:00:00",
        "America/Chicago",
        "scheduled",
        "paula",
    )
    assert (s["alignment_id"], s["sales_force"], s["done_at"], s["outcome"]) == (a["id"], sales_force, None, None)
    assert get_schedule(client, s["id"]) == s
    listed = client.get("/v1/schedules", params={"sales_force": sales_force, "state": "scheduled"}, headers=ALICE)
    assert [x["id"] for x in listed.json()] == [s["id"]]
    assert client.post(f"/v1/schedules/{s['id']}/cancel", headers=ALICE).status_code == 403  # managers do not
    r = client.post(f"/v1/schedules/{s['id']}/cancel", headers=PAULA)
    assert r.status_code == 200 and r.json()["state"] == "cancelled" and r.json()["done_by"] == "paula"
    assert r.json()["done_at"] is not None
    again = client.post(f"/v1/schedules/{s['id']}/cancel", headers=PAULA)
    assert again.status_code == 409 and again.json()["state"] == "cancelled"
    assert (
        client.get("/v1/schedules", params={"sales_force": sales_force, "state": "scheduled"}, headers=ALICE).json()
        == []
    )
    assert outbox_types(client, a["id"])[-2:] == [
        "geo.alignment.publish_scheduled.v1",
        "geo.alignment.publish_cancelled.v1",
    ]
    [told] = outbox_data(client, a["id"], "geo.alignment.publish_scheduled.v1")
    assert (told["local_time"], told["time_zone"], told["by"]) == ("2031-01-06T08:00:00", "America/Chicago", "paula")
    [cancelled] = outbox_data(client, a["id"], "geo.alignment.publish_cancelled.v1")
    assert (cancelled["state"], cancelled["by"]) == ("cancelled", "paula")
    # Cancelled, it may be scheduled again.
    assert schedule(client, a["id"]).status_code == 201


def test_the_same_wall_clock_time_in_summer_is_another_offset(client, layer, sales_force):
    a = draft(client, layer, sales_force)
    s = schedule(client, a["id"], {"effective_at": "2031-07-07T08:00:00", "time_zone": "America/Chicago"}).json()
    assert datetime.fromisoformat(s["effective_at"]) == datetime(2031, 7, 7, 13, 0, tzinfo=UTC)  # CDT, UTC-5


@pytest.mark.parametrize(
    "body",
    [
        {"effective_at": "2020-01-06T08:00:00", "time_zone": "America/Chicago"},
        {"effective_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(), "time_zone": "Europe/Paris"},
        # Clocks in Chicago go from 02:00 to 03:00 on 9 March 2031: 02:30 never happens.
        {"effective_at": "2031-03-09T02:30:00", "time_zone": "America/Chicago"},
    ],
    ids=["past", "past-instant-with-offset", "skipped-by-daylight-saving"],
)
def test_a_time_that_is_past_or_never_happens_is_refused_naming_effective_at(client, layer, sales_force, body):
    a = draft(client, layer, sales_force)
    r = schedule(client, a["id"], body)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["field"] == "effective_at" and [e["field"] for e in r.json()["errors"]] == ["effective_at"]
    assert client.get("/v1/schedules", params={"sales_force": sales_force}, headers=ALICE).json() == []


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "America/chicago/", "../../etc/passwd", "CST+6"])
def test_an_unknown_time_zone_is_refused_naming_time_zone(client, layer, sales_force, zone):
    a = draft(client, layer, sales_force)
    r = schedule(client, a["id"], {"effective_at": "2031-01-06T08:00:00", "time_zone": zone})
    assert r.status_code == 422 and r.json()["field"] == "time_zone", r.text
    assert client.get("/v1/schedules", params={"sales_force": sales_force}, headers=ALICE).json() == []


def test_only_an_approved_draft_not_yet_scheduled_can_be_scheduled(client, layer, sales_force):
    a = draft(client, layer, sales_force)
    assert schedule(client, a["id"]).status_code == 201
    r = schedule(client, a["id"], {**LATER, "effective_at": "2031-02-02T08:00:00"})
    assert r.status_code == 409 and r.json()["schedule_id"]
    policy = {"levels": [{"name": "VP", "roles": ["manager"]}]}
    assert client.put(f"/v1/sales-forces/{sales_force}/approval-policy", json=policy, headers=ADMIN).status_code == 200
    b = draft(client, layer, sales_force)
    r = schedule(client, b["id"])
    assert r.status_code == 409 and "approval" in r.json()["detail"]
    client.post(f"/v1/alignments/{b['id']}/submit", headers=PAULA)
    assert client.post(f"/v1/alignments/{b['id']}/approve", headers=ALICE).json()["state"] == "approved"
    assert schedule(client, b["id"]).status_code == 201
    assert client.post(f"/v1/alignments/{b['id']}/publish", headers=PAULA).status_code == 200
    r = schedule(client, b["id"])  # active now
    assert r.status_code == 409 and r.json()["state"] == "active"
    assert schedule(client, str(uuid.uuid4())).status_code == 404


def test_publishing_a_draft_by_hand_cancels_its_pending_schedule(client, layer, sales_force):
    a = draft(client, layer, sales_force)
    s = schedule(client, a["id"]).json()
    assert client.post(f"/v1/alignments/{a['id']}/publish", headers=PAULA).status_code == 200
    got = get_schedule(client, s["id"])
    assert (got["state"], got["outcome"], got["done_by"]) == ("cancelled", "published by hand", "paula")
    assert outbox_types(client, a["id"]).count("geo.alignment.published.v1") == 1


def test_a_due_schedule_is_published_once_as_its_author_and_is_then_done(client, layer, sales_force):
    a = draft(client, layer, sales_force)
    s = schedule(client, a["id"], soon(0.5)).json()
    assert run_worker_pass(client, datetime.now(UTC) - timedelta(seconds=1)) == 0  # not due yet: left alone
    assert get_schedule(client, s["id"])["state"] == "scheduled"
    time.sleep(0.6)
    assert run_worker_pass(client) >= 1
    got = get_schedule(client, s["id"])
    assert (got["state"], got["outcome"]) == ("done", "published") and got["done_at"]
    assert state_of(client, a["id"]) == "active"
    assert run_worker_pass(client) == 0
    assert outbox_types(client, a["id"]).count("geo.alignment.published.v1") == 1
    [row] = fetch_all(
        client.app.state.runtime.settings.database_url,
        "SELECT payload FROM outbox WHERE key = :k AND event_type = 'geo.alignment.published.v1'",
        k=a["id"],
    )
    assert b'"actor":"paula"' in bytes(row["payload"]).replace(b" ", b"")


def test_two_worker_passes_at_once_publish_each_due_schedule_exactly_once(client, layer):
    drafts = [draft(client, layer, f"sf-{uuid.uuid4().hex[:8]}") for _ in range(3)]
    ids = [schedule(client, d["id"], soon(30)).json()["id"] for d in drafts]
    due, worker = a_minute_from_now(), client.app.state.schedules

    async def two_replicas() -> list[int]:
        # Two passes at once, each with its own connections: as two replicas of the worker would.
        return list(await asyncio.gather(worker.run_once(due), worker.run_once(due)))

    handled = client.portal.call(two_replicas)
    assert sum(handled) == 3, handled
    for d, sid in zip(drafts, ids, strict=True):
        assert get_schedule(client, sid)["state"] == "done"
        assert state_of(client, d["id"]) == "active"
        assert outbox_types(client, d["id"]).count("geo.alignment.published.v1") == 1
        [event] = outbox_data(client, d["id"], "geo.alignment.published.v1")
        assert event["alignment_id"] == d["id"]


def test_a_due_schedule_whose_approval_lapsed_fails_with_the_reason_and_is_not_retried(client, layer, sales_force):
    policy = {"levels": [{"name": "VP", "roles": ["manager"]}]}
    client.put(f"/v1/sales-forces/{sales_force}/approval-policy", json=policy, headers=ADMIN)
    a = draft(client, layer, sales_force)
    east = territory(client, PAULA, a["id"], "EAST")
    client.post(f"/v1/alignments/{a['id']}/submit", headers=PAULA)
    client.post(f"/v1/alignments/{a['id']}/approve", headers=ALICE)
    s = schedule(client, a["id"], soon(30)).json()
    assert move(client, PAULA, a["id"], [WAKE], east, 1).status_code == 200  # the approval was of version 1
    assert run_worker_pass(client, a_minute_from_now()) == 1
    got = get_schedule(client, s["id"])
    assert got["state"] == "failed" and "approval" in got["outcome"] and "not_submitted" in got["outcome"]
    assert state_of(client, a["id"]) == "draft"
    [told] = outbox_data(client, a["id"], "geo.alignment.publish_cancelled.v1")
    assert (told["state"], told["reason"]) == ("failed", got["outcome"])
    assert run_worker_pass(client, a_minute_from_now() + timedelta(seconds=60)) == 0
    assert get_schedule(client, s["id"]) == got
    assert "geo.alignment.published.v1" not in outbox_types(client, a["id"])


def test_a_due_schedule_of_a_draft_published_or_deleted_meanwhile_fails(client, layer, sales_force):
    a, b = draft(client, layer, sales_force), draft(client, layer, f"{sales_force}-b")
    sa, sb = (schedule(client, x["id"], soon(30)).json() for x in (a, b))
    assert client.post(f"/v1/alignments/{a['id']}/archive", headers=PAULA).status_code == 200
    assert client.delete(f"/v1/alignments/{b['id']}", headers=PAULA).status_code == 204
    assert run_worker_pass(client, a_minute_from_now()) == 2
    assert get_schedule(client, sa["id"])["outcome"] == "the alignment is archived, no longer a draft"
    assert get_schedule(client, sb["id"])["outcome"] == "the alignment no longer exists"
    assert {get_schedule(client, x["id"])["state"] for x in (sa, sb)} == {"failed"}


def test_another_tenant_neither_sees_nor_cancels_a_schedule(client, layer, sales_force):
    a = draft(client, layer, sales_force)
    s = schedule(client, a["id"]).json()
    other = auth_headers("schedules-other", "admin")
    assert client.get(f"/v1/schedules/{s['id']}", headers=other).status_code == 404
    assert client.post(f"/v1/schedules/{s['id']}/cancel", headers=other).status_code == 404
    assert client.get("/v1/schedules", headers=other).json() == []
    assert schedule(client, a["id"], headers=other).status_code == 404
    assert get_schedule(client, s["id"])["state"] == "scheduled"


def test_a_schedule_that_fell_due_while_no_worker_ran_is_published_when_one_starts(client, layer, sales_force):
    # The service under test runs no worker: the schedule falls due unseen, as while every process was down.
    a = draft(client, layer, sales_force)
    s = schedule(client, a["id"], soon(0.5)).json()
    time.sleep(1.0)
    assert get_schedule(client, s["id"])["state"] == "scheduled"
    settings = client.app.state.runtime.settings
    restarted = GeoSettings(
        database_url=settings.database_url,
        bus_kind="inprocess",
        inprocess_bus_path=settings.inprocess_bus_path,
        schedule_poll_s=0.2,
    )
    with TestClient(create_app(restarted, run_workers_in_process=True)) as started:
        eventually(
            lambda: started.get(f"/v1/schedules/{s['id']}", headers=ALICE).json()["state"] == "done",
            message="the schedule published by the worker that started",
        )
    assert state_of(client, a["id"]) == "active"
    assert outbox_types(client, a["id"]).count("geo.alignment.published.v1") == 1
