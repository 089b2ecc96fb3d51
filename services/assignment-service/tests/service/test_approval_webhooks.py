"""geo-service's approval and schedule notices reach the webhooks registered for them, signed, each once."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid

import pytest

from tests.support.auth import auth_headers, tenant_of
from tests.support.processes import eventually
from tests.support.webhooks import WebhookReceiver

from .geography import import_nc

pytestmark = pytest.mark.postgis

SECRET = "a-shared-secret-of-some-length"
NOTICES = [
    "geo.alignment.submitted.v1",
    "geo.alignment.approved.v1",
    "geo.alignment.rejected.v1",
    "geo.alignment.approval_overridden.v1",
    "geo.alignment.publish_scheduled.v1",
    "geo.alignment.publish_cancelled.v1",
]


def test_a_webhook_may_ask_for_every_approval_and_schedule_notice(client, tenant):
    r = client.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/hook", "event_types": NOTICES}, headers=tenant)
    assert r.status_code == 201, r.text
    assert r.json()["event_types"] == NOTICES


def test_approval_and_schedule_notices_reach_a_webhook_registered_for_them(client, tenant, tmp_path):
    receiver = WebhookReceiver(status=204)
    receiver.start()
    try:
        wanted = ["geo.alignment.submitted.v1", "geo.alignment.approved.v1", "geo.alignment.publish_scheduled.v1"]
        hook = {"url": f"http://127.0.0.1:{receiver.port}/approvals", "secret": SECRET, "event_types": wanted}
        assert client.post("/v1/webhooks", json=hook, headers=tenant).status_code == 201
        layer = import_nc(client, tenant, tmp_path)
        sales_force = f"sf-{uuid.uuid4().hex[:6]}"
        policy = {"levels": [{"name": "VP", "users": ["alice"]}]}
        r = client.put(f"/geo/v1/sales-forces/{sales_force}/approval-policy", json=policy, headers=tenant)
        assert r.status_code == 200, r.text
        body = {"name": "FY27", "sales_force": sales_force, "layer_id": layer}
        alignment = client.post("/geo/v1/alignments", json=body, headers=tenant).json()["id"]
        assert client.post(f"/geo/v1/alignments/{alignment}/submit", headers=tenant).status_code == 200
        alice = auth_headers(tenant_of(tenant), "manager", sub="alice")
        assert client.post(f"/geo/v1/alignments/{alignment}/approve", headers=alice).status_code == 200
        when = {"effective_at": "2031-01-06T08:00:00", "time_zone": "America/Chicago"}
        assert client.post(f"/geo/v1/alignments/{alignment}/schedule", json=when, headers=tenant).status_code == 201
        eventually(lambda: len(receiver.received) >= 3, message="three notices delivered")
    finally:
        receiver.stop()
    notices = [json.loads(body) for body, _ in receiver.received]
    assert [n["type"] for n in notices] == wanted
    assert {n["data"]["alignment_id"] for n in notices} == {alignment}
    assert notices[1]["data"]["by"] == "alice" and notices[1]["data"]["final"] is True
    assert notices[2]["data"]["local_time"] == "2031-01-06T08:00:00"
    for body, headers in receiver.received:
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["x-territory-signature"], expected)
