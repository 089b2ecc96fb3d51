"""Realignment notices reach a registered webhook, signed, even when the receiver is down for a while."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support.processes import eventually, free_port

from .conftest import upsert
from .geography import DURHAM, DURHAM_CITY, MECKLENBURG, WAKE, draft, import_nc, publish

pytestmark = pytest.mark.postgis

SECRET = "a-shared-secret-of-some-length"


class Receiver:
    """A CRM's webhook endpoint on a local port; it can be started late, to play a receiver that was down."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.received: list[tuple[bytes, dict[str, str]]] = []
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["content-length"]))
                received.append((body, {k.lower(): v for k, v in self.headers.items()}))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def test_a_notice_waits_for_a_receiver_that_is_down_then_arrives_signed_once(client, tenant, tmp_path):
    receiver = Receiver(free_port())
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
