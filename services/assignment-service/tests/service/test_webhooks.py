"""Realignment notices reach a registered webhook, signed, even when the receiver is down for a while."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from tests.support.processes import eventually
from tests.support.webhooks import WebhookReceiver

from .conftest import upsert
from .geography import DURHAM, DURHAM_CITY, MECKLENBURG, WAKE, draft, import_nc, publish

pytestmark = pytest.mark.postgis

SECRET = "a-shared-secret-of-some-length"


def test_a_notice_waits_for_a_receiver_that_is_down_then_arrives_signed_once(client, tenant, tmp_path):
    receiver = WebhookReceiver(status=204)
    r = client.post(
        "/v1/webhooks", json={"url": f"http://127.0.0.1:{receiver.port}/hook", "secret": SECRET}, headers=tenant
    )
    assert r.status_code == 201 and r.json()["secret"] == SECRET
    hook = r.json()["id"]
    layer = import_nc(client, tenant, tmp_path)
    upsert(client, tenant, [{"external_id": "d", "lat": DURHAM_CITY[1], "lon": DURHAM_CITY[0], "potential": 9}])
    publish(client, tenant, draft(client, tenant, layer, {"EAST": [WAKE, DURHAM], "WEST": [MECKLENBURG]}))
    run = publish(client, tenant, draft(client, tenant, layer, {"EAST": [WAKE], "WEST": [MECKLENBURG, DURHAM]}))

    failing = eventually(
        lambda: [d for d in client.get(f"/v1/webhooks/{hook}/deliveries", headers=tenant).json() if d["attempts"] >= 2],
        message="deliveries retried while the receiver is down",
    )
    assert all(d["status"] == "pending" and d["last_error"] for d in failing)
    receiver.start()
    try:
        eventually(
            lambda: (
                {d["status"] for d in client.get(f"/v1/webhooks/{hook}/deliveries", headers=tenant).json()}
                == {"delivered"}
            ),
            message="both notices delivered",
        )
    finally:
        receiver.stop()
    assert len(receiver.received) == 2
    for body, headers in receiver.received:
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["x-territory-signature"], expected)
    notices = [json.loads(body) for body, _ in receiver.received]
    last = next(n for n in notices if n["data"]["run_id"] == run["id"])
    assert last["type"] == "assignment.realignment.completed.v1" and last["data"]["accounts_moved"] == 1
    assert last["data"]["territories"] == [
        {
            "territory_code": "EAST",
            "accounts_gained": 0,
            "accounts_lost": 1,
            "potential_gained": 0.0,
            "potential_lost": 9.0,
        },
        {
            "territory_code": "WEST",
            "accounts_gained": 1,
            "accounts_lost": 0,
            "potential_gained": 9.0,
            "potential_lost": 0.0,
        },
    ]


@pytest.mark.parametrize(
    ("event_types", "field"),
    [
        (["assignment.realignment.completed.v1", "assignment.realignment.complete.v1"], "event_types.1"),
        (["assignment.account.reassigned.v1"], "event_types.0"),
        ([], "event_types"),
    ],
    ids=["misspelt", "not-deliverable", "empty"],
)
def test_a_webhook_for_an_event_type_that_is_never_delivered_is_refused_and_not_registered(
    client, tenant, event_types, field
):
    body = {"url": "http://127.0.0.1:9/hook", "secret": SECRET, "event_types": event_types}
    r = client.post("/v1/webhooks", json=body, headers=tenant)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["field"] == "event_types" and [e["field"] for e in r.json()["errors"]] == [field]
    assert client.get("/v1/webhooks", headers=tenant).json() == []


def test_a_webhook_may_ask_for_out_of_balance_notices(client, tenant):
    body = {"url": "http://127.0.0.1:9/hook", "event_types": ["metrics.territory.out_of_balance_detected.v1"]}
    r = client.post("/v1/webhooks", json=body, headers=tenant)
    assert r.status_code == 201, r.text
    assert r.json()["event_types"] == ["metrics.territory.out_of_balance_detected.v1"]


def test_an_out_of_balance_alert_reaches_a_webhook_registered_for_it_once(client, tenant):
    from territory_shared.events.envelope import new_event
    from territory_shared.events.metrics import TerritoryOutOfBalanceV1
    from territory_shared.messaging.bus import OutgoingMessage

    from tests.support.auth import tenant_of

    receiver = WebhookReceiver(status=204)
    receiver.start()
    try:
        r = client.post(
            "/v1/webhooks",
            json={
                "url": f"http://127.0.0.1:{receiver.port}/alerts",
                "secret": SECRET,
                "event_types": ["metrics.territory.out_of_balance_detected.v1"],
            },
            headers=tenant,
        )
        assert r.status_code == 201, r.text
        alert = new_event(
            source="/metrics-service",
            type="metrics.territory.out_of_balance_detected.v1",
            subject="t-east",
            tenant_id=tenant_of(tenant),
            data=TerritoryOutOfBalanceV1(
                alignment_id="a-1",
                sales_force="field",
                territory_id="t-east",
                territory_code="EAST",
                metric="account_potential",
                value=4000.0,
                target=2250.0,
                deviation_pct=77.8,
                tolerance_pct=10.0,
            ),
        )
        publisher = client.app.state.assignment.state.runtime.bus.publisher()
        message = OutgoingMessage("metrics.territory", "t-east", alert.to_bytes())
        client.portal.call(publisher.publish, [message, message])  # delivered twice by the bus: told once
        eventually(lambda: len(receiver.received) >= 1, message="the alert reached the webhook")
    finally:
        receiver.stop()
    body, headers = receiver.received[0]
    assert json.loads(body)["data"]["territory_code"] == "EAST"
    assert hmac.compare_digest(
        headers["x-territory-signature"], "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    )
    hook = r.json()["id"]
    assert [d["status"] for d in client.get(f"/v1/webhooks/{hook}/deliveries", headers=tenant).json()] == ["delivered"]
