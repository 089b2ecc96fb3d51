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
