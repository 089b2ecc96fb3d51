"""The Prometheus series that the outbox relay, the inbox consumer and the job runner record as they work, and the
small functions they record through (so they never import the client).

It sits at the bottom of the imports (only the Prometheus client below it), so any module may record here.
Serving and refreshing the series (the ``/prometheus`` endpoint, the outbox backlog and consumer lag) is in
``observability.py``, above the runtime.
"""

from __future__ import annotations

import contextlib

from prometheus_client import Counter, Gauge

OUTBOX_PUBLISHED = Counter("territory_outbox_published_events_total", "Outbox rows the relay published")
EVENTS_PROCESSED = Counter(
    "territory_consumer_events_processed_total",
    "Messages the consumer applied (or skipped as duplicates) and committed",
    ["consumer"],
)
EVENTS_DEAD_LETTERED = Counter(
    "territory_consumer_events_dead_lettered_total", "Messages sent to the dead-letter topic", ["consumer"]
)
JOB_PROGRESS = Gauge("territory_job_progress_percent", "Progress of running jobs", ["kind", "job_id"])
JOBS_FINISHED = Counter("territory_jobs_finished_total", "Jobs that ended, by status", ["kind", "status"])

_job_kinds: dict[str, str] = {}


def outbox_published(count: int) -> None:
    OUTBOX_PUBLISHED.inc(count)


def events_processed(consumer: str, count: int) -> None:
    EVENTS_PROCESSED.labels(consumer).inc(count)


def event_dead_lettered(consumer: str) -> None:
    EVENTS_DEAD_LETTERED.labels(consumer).inc()


def job_started(job_id: str, kind: str) -> None:
    _job_kinds[job_id] = kind
    JOB_PROGRESS.labels(kind, job_id).set(0)


def job_progress(job_id: str, percent: float) -> None:
    if job_id in _job_kinds:
        JOB_PROGRESS.labels(_job_kinds[job_id], job_id).set(percent)


def job_finished(job_id: str, status: str) -> None:
    kind = _job_kinds.pop(job_id, None)
    if kind is not None:
        # A finished job leaves the gauge so that its job_id label does not grow without bound.
        with contextlib.suppress(KeyError):
            JOB_PROGRESS.remove(kind, job_id)
        JOBS_FINISHED.labels(kind, status).inc()
