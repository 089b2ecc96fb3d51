"""What a relay or consumer process answers on ``<PREFIX>METRICS_PORT``: liveness, readiness and its metrics.

- ``GET /healthz``: 200 while the process runs.
- ``GET /readyz``: 503 while it waits at start for its database (migrations) or its broker (topics), naming which;
  once working, 200 only when both answer now (asked at each call, as an API's ``/readyz`` does), so a later
  outage shows too while the process retries through it.
- any other path (``/prometheus`` by convention): the Prometheus metrics.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import make_server

from prometheus_client import make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer, _SilentHandler

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from territory_shared.runtime import ServiceRuntime

log = logging.getLogger(__name__)

CHECK_TIMEOUT_S = 10.0


class WorkerProbe:
    """Where a worker process stands: waiting for a dependency at start, or working."""

    def __init__(self, runtime: ServiceRuntime) -> None:
        self._runtime = runtime
        self._loop = asyncio.get_running_loop()
        self.waiting_for: str | None = "start"

    def waiting(self, dependency: str) -> None:
        self.waiting_for = dependency

    def working(self) -> None:
        self.waiting_for = None

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        """Called on the HTTP server's threads; the checks run on the process's own loop, where its engine lives."""
        if self.waiting_for is not None:
            return False, {"status": "waiting", "waiting_for": self.waiting_for}
        future = asyncio.run_coroutine_threadsafe(self._checks(), self._loop)
        try:
            checks = future.result(CHECK_TIMEOUT_S)
        except Exception:  # noqa: BLE001 - readiness reports, it does not raise
            future.cancel()
            log.warning("readiness checks did not answer", exc_info=True)
            checks = {"database": False, "broker": False}
        ready = all(checks.values())
        return ready, {"status": "ready" if ready else "unavailable", "checks": checks}

    async def _checks(self) -> dict[str, bool]:
        database, broker = await asyncio.gather(self._runtime.database_ready(), self._runtime.bus_ready())
        return {"database": database, "broker": broker}


WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def probe_app(probe: WorkerProbe) -> WSGIApp:
    metrics = make_wsgi_app()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            return _json(start_response, True, {"status": "ok"})
        if path == "/readyz":
            return _json(start_response, *probe.readiness())
        body: Iterable[bytes] = metrics(environ, start_response)
        return body

    return app


def _json(start_response: Callable[..., Any], ok: bool, body: dict[str, Any]) -> list[bytes]:
    start_response("200 OK" if ok else "503 Service Unavailable", [("Content-Type", "application/json")])
    return [json.dumps(body).encode()]


def serve(probe: WorkerProbe, port: int) -> tuple[WSGIServer, threading.Thread]:
    """Serve the probe on every interface (the cluster's Prometheus and kubelet come from outside the pod)."""
    server = make_server("0.0.0.0", port, probe_app(probe), ThreadingWSGIServer, handler_class=_SilentHandler)  # noqa: S104
    thread = threading.Thread(target=server.serve_forever, name="worker-probe", daemon=True)
    thread.start()
    return server, thread
