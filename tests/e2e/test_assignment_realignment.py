"""assignment-service end to end: accounts pushed over HTTP, alignments published in geo-service, realignment
runs applied from the event, notices on the topic and at a webhook receiver that is down for a while.

Distributed: geo-service and assignment-service as separate processes (API, relay + webhook worker,
consumer) on PostGIS and Apache Kafka; assignment-service calls geo-service over HTTP. Embedded: one process
on SQLite and the in-process bus, assignment-service calling geo-service's app over ASGI.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.assignment_platform import (
    CHARLOTTE,
    DURHAM,
    DURHAM_CITY,
    MECKLENBURG,
    ORANGE,
    RALEIGH,
    SECRET,
    WAKE,
    DistributedAssignmentPlatform,
    EmbeddedAssignmentPlatform,
    Platform,
    draft,
    import_nc,
    owners,
    publish,
)
from tests.support.auth import auth_headers, tenant_of
from tests.support.processes import eventually
from tests.support.webhooks import WebhookReceiver


@pytest.fixture(scope="module", params=["kafka", "embedded"])
def platform(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    workdir = tmp_path_factory.mktemp(f"assignment-{request.param}")
    p = DistributedAssignmentPlatform(workdir) if request.param == "kafka" else EmbeddedAssignmentPlatform(workdir)
    try:
        p.start()
        yield p
    finally:
        p.close()


@pytest.mark.timeout(900)  # a layer import and three realignments, on a loaded CI machine
def test_publishing_realigns_accounts_and_notifies_the_topic_and_a_webhook_that_was_down(platform: Platform, tmp_path):
    tenant = auth_headers(f"e2e-{uuid.uuid4().hex[:10]}")
    receiver = WebhookReceiver(status=200)
    with (
        httpx.Client(base_url=platform.geo_url, headers=tenant, timeout=60) as geo,
        httpx.Client(base_url=platform.assignment_url, headers=tenant, timeout=60) as assignment,
    ):
        hook = assignment.post("/v1/webhooks", json={"url": f"http://127.0.0.1:{receiver.port}/crm", "secret": SECRET})
        assert hook.status_code == 201, hook.text
        layer = import_nc(geo, tmp_path)
        first = publish(geo, assignment, draft(geo, layer, {"EAST": [WAKE, DURHAM], "WEST": [MECKLENBURG]}))
        ndjson = "\n".join(
            json.dumps(r)
            for r in [
                {"external_id": "raleigh", "lat": RALEIGH[1], "lon": RALEIGH[0], "potential": 100},
                {"external_id": "durham", "lat": DURHAM_CITY[1], "lon": DURHAM_CITY[0], "potential": 40},
                {"external_id": "durham-zip", "zip": "27701", "potential": 10},
                {"external_id": "charlotte", "lat": CHARLOTTE[1], "lon": CHARLOTTE[0], "industry": "healthcare"},
                {"external_id": "sea", "lat": 34.0, "lon": -70.0},
            ]
        )
        r = assignment.post(
            "/v1/accounts/bulk",
            content=ndjson.encode(),
            headers={"content-type": "application/x-ndjson", "Idempotency-Key": "crm-sync-1"},
        )
        assert r.status_code == 200 and r.json()["created"] == 5, r.text
        again = assignment.post(
            "/v1/accounts/bulk",
            content=ndjson.encode(),
            headers={"content-type": "application/x-ndjson", "Idempotency-Key": "crm-sync-1"},
        )
        assert again.headers.get("idempotent-replayed") == "true" and again.json() == r.json()
        assert assignment.put("/v1/reps/ana", json={"name": "Ana"}).status_code == 201
        roster = {"sales_force": "field", "territory_code": "WEST", "rep_external_id": "ana"}
        assert assignment.post("/v1/roster-entries", json=roster).status_code == 201
        override = assignment.put("/v1/sales-forces/field/overrides/raleigh", json={"territory_code": "WEST"})
        assert override.status_code == 200, override.text
        assert owners(assignment) == {
            "raleigh": "WEST",
            "durham": "EAST",
            "durham-zip": "EAST",
            "charlotte": "WEST",
            "sea": None,
        }

        # Durham moves to WEST: the preview says so, and publishing does exactly that.
        second_id = draft(geo, layer, {"EAST": [WAKE, ORANGE], "WEST": [MECKLENBURG, DURHAM]})
        preview = assignment.post(f"/v1/realignments/preview?alignment_id={second_id}").json()
        second = publish(geo, assignment, second_id)
        changes = assignment.get(f"/v1/realignments/{second['id']}/changes?limit=1").json()
        assert changes["next"] is not None
        all_changes = assignment.get(f"/v1/realignments/{second['id']}/changes").json()["items"]
        assert sorted((c["external_id"], c["from_territory_code"], c["to_territory_code"]) for c in all_changes) == [
            (c["external_id"], c["from_territory_code"], c["to_territory_code"]) for c in preview["changes"]
        ]
        assert {c["external_id"] for c in all_changes} == {"durham", "durham-zip"}
        assert second["summary"]["reps"] == preview["reps"]
        assert owners(assignment)["raleigh"] == "WEST"  # the override survived

        # Back again: the account's history shows both realignments.
        third = publish(geo, assignment, draft(geo, layer, {"EAST": [WAKE, DURHAM], "WEST": [MECKLENBURG]}))
        history = assignment.get("/v1/accounts/durham/history").json()
        assert [(h["from_territory_code"], h["to_territory_code"], h["run_id"]) for h in history] == [
            (None, "EAST", None),
            ("EAST", "WEST", second["id"]),
            ("WEST", "EAST", third["id"]),
        ]
        owner = assignment.get("/v1/sales-forces/field/owner", params={"zip": "28202"}).json()  # Charlotte
        assert owner["territory_code"] == "WEST" and owner["rep_external_id"] == "ana"

        runs = [first["id"], second["id"], third["id"]]
        eventually(
            # One notice per run; the key is the run id, so across partitions they need not be in order.
            lambda: (
                sorted(n["data"]["run_id"] for n in platform.notices() if n["tenantid"] == tenant_of(tenant))
                == sorted(runs)
            ),
            deadline_s=60,
            message="one notice per run on the topic",
        )

        def tried() -> list[dict]:
            rows = assignment.get(f"/v1/webhooks/{hook.json()['id']}/deliveries").json()
            attempted = [d for d in rows if d["attempts"] >= 1]
            return attempted if len(attempted) == 3 else []

        deliveries = eventually(tried, deadline_s=60, message="each notice tried at the receiver that is down")
        assert len(deliveries) == 3 and {d["status"] for d in deliveries} == {"pending"}
        receiver.start()
        try:
            eventually(lambda: len(receiver.received) >= 3, deadline_s=30, message="the receiver is back")
        finally:
            receiver.stop()
    got = sorted(json.loads(body)["data"]["run_id"] for body, _ in receiver.received)
    assert got == sorted(runs)
    for body, headers in receiver.received:
        assert (
            headers["x-territory-signature"] == "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        )
