"""Long work (imports, optimization, realignment) as jobs with progress that the API and the map show.

A job row is created in the request's transaction, the work runs as a task of the API process, and
every progress report (stage, percent, message) is committed so any replica can answer ``GET
/v1/jobs/{id}`` (on SQLite, the one-process embedded mode, progress is kept in memory instead: a job writing it
from inside its own write transaction would wait for itself). A job still ``running`` when its process died is
marked ``interrupted`` at the next start: nothing half-done is ever reported as a result.

Cancelling (``POST /v1/jobs/{id}/cancel``, on any replica) marks the row ``cancelling``; the process running
the job sees it at its next progress report and sets ``Progress.cancel_requested``. Work that can stop raises
``JobCancelled`` and the job ends ``cancelled``; work that cannot stop finishes as usual.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import JSON, Column, DateTime, Float, MetaData, String, Table, Text, insert, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from territory_shared.db.timeouts import QUERY_CANCELED, use_default_statement_timeout
from territory_shared.errors import DomainError
from territory_shared.process_metrics import job_finished, job_progress, job_started

log = logging.getLogger(__name__)

TERMINAL = ("succeeded", "failed", "interrupted", "cancelled")
ACTIVE = ("queued", "running")


def jobs_table(metadata: MetaData) -> Table:
    return Table(
        "jobs",
        metadata,
        Column("id", String(36), primary_key=True),
        Column("tenant_id", String(64), nullable=False, index=True),
        Column("kind", String(50), nullable=False),
        # queued | running | cancelling | succeeded | failed | interrupted | cancelled
        Column("status", String(20), nullable=False),
        Column("stage", String(100), nullable=False),
        Column("percent", Float, nullable=False),
        Column("message", Text, nullable=True),
        Column("result", JSON, nullable=True),
        Column("error", JSON, nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
    )


@dataclass
class Progress:
    """Handed to the work: ``await progress("reading", 40, "12,000 of 30,000 features")``.

    ``details`` (a small JSON object, e.g. the best figures so far) is readable as ``result.progress`` while the
    job runs. ``cancel_requested`` is set once someone asked to cancel the job (a ``threading.Event``, so work
    running in a thread can poll it too).
    """

    _report: Callable[[str, float, str | None, dict[str, Any] | None], Awaitable[None]]
    cancel_requested: threading.Event = field(default_factory=threading.Event)

    async def __call__(
        self, stage: str, percent: float, message: str | None = None, details: dict[str, Any] | None = None
    ) -> None:
        await self._report(stage, max(0.0, min(100.0, percent)), message, details)


class JobFailed(Exception):
    """Raised by work to end its job as ``failed`` with a problem body (e.g. the features that failed validation)."""

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class JobCancelled(Exception):
    """Raised by work that stopped because its job was cancelled; the job ends ``cancelled``."""


class JobRunner:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], table: Table) -> None:
        self._sessions = sessions
        self._table = table
        self._tasks: set[asyncio.Task[None]] = set()
        # SQLite has one writer: a job reporting progress from inside its own write transaction would wait for
        # itself. There (the embedded mode, one process) progress lives in memory; the outcome is still stored.
        bind = sessions.kw.get("bind")
        self._progress_in_memory = bind is not None and bind.dialect.name == "sqlite"
        self._live: dict[str, dict[str, Any]] = {}

    async def mark_interrupted(self) -> None:
        """At start-up: jobs that were running in a process that is gone can no longer finish."""
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(self._table)
                .where(self._table.c.status.in_(("queued", "running", "cancelling")))
                .values(
                    status="interrupted",
                    message="the service restarted while the job ran; run it again",
                    result=None,
                    updated_at=datetime.now(UTC),
                )
            )

    async def submit(self, tenant_id: str, kind: str, work: Callable[[Progress], Awaitable[dict[str, Any]]]) -> str:
        job_id = str(uuid.uuid4())
        now = datetime.now(UTC)
        async with self._sessions() as session, session.begin():
            await session.execute(
                insert(self._table).values(
                    id=job_id,
                    tenant_id=tenant_id,
                    kind=kind,
                    status="queued",
                    stage="queued",
                    percent=0.0,
                    created_at=now,
                    updated_at=now,
                )
            )
        job_started(job_id, kind)
        task = asyncio.create_task(self._run(job_id, work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job_id

    async def _set(self, job_id: str, **values: Any) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(self._table).where(self._table.c.id == job_id).values(updated_at=datetime.now(UTC), **values)
            )
        if values.get("status") in TERMINAL:
            job_finished(job_id, values["status"])
            # Only now: while a large result is written, a reader still sees the live progress, not the row's
            # stale "starting" at 0%.
            self._live.pop(job_id, None)

    async def _run(self, job_id: str, work: Callable[[Progress], Awaitable[dict[str, Any]]]) -> None:
        progress: Progress

        async def report(stage: str, percent: float, message: str | None, details: dict[str, Any] | None) -> None:
            values: dict[str, Any] = {"status": "running", "stage": stage, "percent": percent, "message": message}
            if details is not None:
                values["result"] = {"progress": details}
            if self._progress_in_memory:
                live = {**values, "updated_at": datetime.now(UTC)}
                # A report without details keeps the last ones (the best figures so far), as the stored row does
                if details is None and "result" in self._live.get(job_id, {}):
                    live["result"] = self._live[job_id]["result"]
                self._live[job_id] = live
                active = await self._is_active(job_id)  # a read: it never waits for the job's own writes
            else:
                active = await self._set_if_active(job_id, **values)
            # A row no longer queued or running was asked to cancel (on any replica): tell the work.
            if not active:
                progress.cancel_requested.set()
            job_progress(job_id, percent)

        progress = Progress(report)
        use_default_statement_timeout()  # a job may run longer than the request that started it
        try:
            if not await self._set_if_active(job_id, status="running", stage="starting"):
                raise JobCancelled()
            result = await work(progress)
            await self._set(job_id, status="succeeded", stage="done", percent=100.0, result=result, message=None)
        except JobCancelled:
            await self._set(job_id, status="cancelled", stage="cancelled", message="cancelled on request", result=None)
        except JobFailed as exc:
            await self._set(
                job_id,
                status="failed",
                stage="failed",
                result=None,
                message=exc.detail,
                error={"detail": exc.detail, **exc.extensions},
            )
        except DomainError as exc:
            await self._set(
                job_id,
                status="failed",
                stage="failed",
                result=None,
                message=exc.detail,
                error={"detail": exc.detail, **exc.extensions},
            )
        except asyncio.CancelledError:
            await self._set(
                job_id, status="interrupted", stage="interrupted", message="the service stopped", result=None
            )
            raise
        except Exception as exc:  # noqa: BLE001 - a job's failure is reported on the job, not lost in a log
            log.exception("job %s failed", job_id)
            # Never the exception's text: a database error's holds its SQL. The log has it, under the job id.
            if getattr(getattr(exc, "orig", None), "sqlstate", None) == QUERY_CANCELED:
                detail = "a database statement took longer than the statement timeout of jobs"
            else:
                detail = f"internal error ({type(exc).__name__}); the service log has the details of job {job_id}"
            await self._set(
                job_id, status="failed", stage="failed", result=None, message=detail, error={"detail": detail}
            )

    async def _set_if_active(self, job_id: str, **values: Any) -> bool:
        async with self._sessions() as session, session.begin():
            # An UPDATE's result is a cursor result (it has a row count); `execute` is typed for any statement.
            done = cast(
                CursorResult[Any],
                await session.execute(
                    update(self._table)
                    .where(self._table.c.id == job_id, self._table.c.status.in_(ACTIVE))
                    .values(updated_at=datetime.now(UTC), **values)
                ),
            )
        return bool(done.rowcount)

    async def _is_active(self, job_id: str) -> bool:
        async with self._sessions() as session:
            status = (await session.execute(select(self._table.c.status).where(self._table.c.id == job_id))).scalar()
        return status in ACTIVE

    async def cancel(self, tenant_id: str, job_id: str) -> dict[str, Any] | None:
        """Ask a queued or running job to stop; None when there is no such job. A finished job is left as it is."""
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(self._table)
                .where(
                    self._table.c.id == job_id,
                    self._table.c.tenant_id == tenant_id,
                    self._table.c.status.in_(ACTIVE),
                )
                .values(status="cancelling", message="cancel requested", updated_at=datetime.now(UTC))
            )
        return await self.get(tenant_id, job_id)

    async def get(self, tenant_id: str, job_id: str) -> dict[str, Any] | None:
        async with self._sessions() as session:
            row = (
                (
                    await session.execute(
                        select(self._table).where(self._table.c.id == job_id, self._table.c.tenant_id == tenant_id)
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            return None
        job = dict(row)
        if job["status"] not in TERMINAL:
            status = job["status"]
            job.update(self._live.get(job_id, {}))
            if status == "cancelling":  # asked to stop: say so, whatever the last progress report said
                job["status"] = status
        return job

    async def wait_all(self, seconds: float = 30) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=seconds)

    async def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.wait_all(5)
