"""Prometheus metrics of every process: HTTP latency, outbox backlog, consumer progress and lag, job progress.

The API serves them at ``/prometheus`` on its own port (not ``/metrics``: in the embedded mode
metrics-service is mounted at ``/metrics``). A relay or consumer process serves them on
``<PREFIX>METRICS_PORT`` (any path but ``/healthz`` and ``/readyz``, which are its probes: see worker_probe.py;
``/prometheus`` by convention) when that setting is given.
The series that the outbox, the inbox and the job runner record, and the functions they record through, are in
process_metrics.py, below them; this module serves every series and refreshes those that are measured on demand.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from territory_shared.messaging.inbox import topics_of
from territory_shared.messaging.kafka_bus import consumer_group
from territory_shared.messaging.outbox import oldest_pending_age_s, pending_count
from territory_shared.process_metrics import EVENTS_DEAD_LETTERED, EVENTS_PROCESSED
from territory_shared.worker_probe import WorkerProbe, serve

if TYPE_CHECKING:
    from territory_shared.runtime import ServiceRuntime

log = logging.getLogger(__name__)

PROMETHEUS_PATH = "/prometheus"
REFRESH_S = 10.0

HTTP_LATENCY = Histogram(
    "territory_http_request_duration_seconds",
    "HTTP request latency by route template and status",
    ["service", "method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
OUTBOX_PENDING = Gauge("territory_outbox_pending_events", "Outbox rows not yet published", ["service"])
OUTBOX_OLDEST_PENDING_AGE = Gauge(
    "territory_outbox_oldest_pending_age_seconds",
    "Seconds since the oldest outbox row not yet published was written (0 when none waits)",
    ["service"],
)
CONSUMER_LAG = Gauge(
    "territory_consumer_lag_events",
    "Messages not yet committed by the consumer group",
    ["consumer", "topic", "partition"],
)
# --- the API: latency middleware and the scrape endpoint ----------------------------------------------


class LatencyMiddleware:
    """Times each request under its route template (``/v1/territories/{territory_id}``), never the raw path."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def _send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, _send)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "<unmatched>"
            HTTP_LATENCY.labels(self.service, scope.get("method", ""), template, str(status)).observe(
                time.perf_counter() - started
            )


def instrument(app: FastAPI, service: str) -> None:
    """Add the latency middleware and ``GET /prometheus`` to a service app."""
    app.add_middleware(LatencyMiddleware, service=service)

    @app.get(PROMETHEUS_PATH, include_in_schema=False)
    async def prometheus(request: Request) -> Response:
        runtime = getattr(request.app.state, "runtime", None)
        if runtime is not None:
            await refresh_outbox_backlog(runtime)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


async def refresh_outbox_backlog(runtime: ServiceRuntime) -> None:
    try:
        async with runtime.sessions() as session:
            pending = await asyncio.wait_for(pending_count(session, runtime.outbox), 5)
            age = await asyncio.wait_for(oldest_pending_age_s(session, runtime.outbox), 5)
        OUTBOX_PENDING.labels(runtime.settings.service_name).set(pending)
        OUTBOX_OLDEST_PENDING_AGE.labels(runtime.settings.service_name).set(age)
    except Exception:  # noqa: BLE001 - a scrape reports what it can; the last value stays
        log.warning("could not count the outbox backlog", exc_info=True)


# --- relay and consumer processes --------------------------------------------------------------------


def kafka_lag(bootstrap_servers: str, group: str, topics: Sequence[str], prefix: str) -> dict[tuple[str, int], int]:
    """End offset minus the group's committed offset, per partition (blocking: run it in a thread)."""
    from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=5000)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False, request_timeout_ms=6000)
    try:
        committed = admin.list_group_offsets({group: None}).get(group, {})
        partitions = [
            TopicPartition(prefix + t, p)
            for t in topics
            for p in sorted(consumer.partitions_for_topic(prefix + t) or ())
        ]
        ends = consumer.end_offsets(partitions) if partitions else {}
        lag: dict[tuple[str, int], int] = {}
        for tp, end in ends.items():
            done = committed.get(tp)
            start = done.offset if done is not None and done.offset >= 0 else 0
            lag[(tp.topic.removeprefix(prefix), tp.partition)] = max(0, end - start)
        return lag
    finally:
        consumer.close()
        admin.close()


async def _refresh_forever(runtime: ServiceRuntime, process: str, probe: WorkerProbe) -> None:
    settings = runtime.settings
    while True:
        # The backlog grows while the relay waits for the broker: that is when it matters most. Before migrations
        # the outbox may not exist yet.
        if process == "relay" and probe.waiting_for not in ("start", "database"):
            await refresh_outbox_backlog(runtime)
        elif process == "consumer" and settings.bus_kind == "kafka":
            try:
                lag = await asyncio.to_thread(
                    kafka_lag,
                    settings.kafka_bootstrap_servers,
                    consumer_group(settings.kafka_topic_prefix, settings.service_name),  # the subscriber's group
                    topics_of(runtime.handlers),
                    settings.kafka_topic_prefix,
                )
                for (topic, partition), value in lag.items():
                    CONSUMER_LAG.labels(settings.service_name, topic, str(partition)).set(value)
            except Exception:  # noqa: BLE001 - lag is reported when the broker answers
                log.warning("could not read the consumer lag", exc_info=True)
        await asyncio.sleep(REFRESH_S)


@contextlib.asynccontextmanager
async def worker_metrics(runtime: ServiceRuntime, process: str) -> AsyncIterator[WorkerProbe]:
    """Serve this relay's or consumer's metrics and probes on ``<PREFIX>METRICS_PORT`` (if set) while it runs;
    the process tells the probe it yields what it waits for."""
    probe = WorkerProbe(runtime)
    port = runtime.settings.metrics_port
    if port is None:
        yield probe
        return
    if process == "consumer":  # every series exists from the start, at 0, so that rates and alerts work at once
        EVENTS_PROCESSED.labels(runtime.settings.service_name)
        EVENTS_DEAD_LETTERED.labels(runtime.settings.service_name)
    server, thread = serve(probe, port)
    log.info("serving Prometheus metrics, /healthz and /readyz on port %d", port)
    task = asyncio.create_task(_refresh_forever(runtime, process, probe))
    try:
        yield probe
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        server.shutdown()
        thread.join(5)
