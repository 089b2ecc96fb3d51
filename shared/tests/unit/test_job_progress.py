"""A job on SQLite reports progress from inside its own write transaction without waiting for itself."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import Column, Integer, MetaData, Table, insert
from territory_shared.db.engine import create_engine, create_session_factory
from territory_shared.jobs import JobRunner, Progress, jobs_table


async def test_progress_inside_a_write_transaction_on_sqlite_neither_blocks_nor_fails_the_job(tmp_path):
    metadata = MetaData()
    jobs = jobs_table(metadata)
    rows = Table("rows", metadata, Column("n", Integer, primary_key=True))
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'jobs.sqlite'}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    sessions = create_session_factory(engine)
    runner = JobRunner(sessions, jobs)
    halfway, resume = asyncio.Event(), asyncio.Event()

    async def work(progress: Progress) -> dict[str, int]:
        async with sessions() as session, session.begin():
            await session.execute(insert(rows).values(n=1))  # this transaction now holds SQLite's write lock
            await progress("writing", 50, "1 of 2 rows")
            halfway.set()
            await resume.wait()
            await session.execute(insert(rows).values(n=2))
        return {"rows": 2}

    try:
        started = time.monotonic()
        job_id = await runner.submit("acme", "write", work)
        await asyncio.wait_for(halfway.wait(), 5)
        running = await runner.get("acme", job_id)
        assert running is not None
        assert (running["status"], running["stage"], running["percent"]) == ("running", "writing", 50)
        resume.set()
        await runner.wait_all(10)
        done = await runner.get("acme", job_id)
        assert done is not None and done["status"] == "succeeded", done
        assert done["result"] == {"rows": 2} and done["percent"] == 100
        assert time.monotonic() - started < 5  # not the 30 s busy timeout
    finally:
        await engine.dispose()


async def test_a_job_that_fails_unexpectedly_reports_no_exception_text(tmp_path):
    metadata = MetaData()
    jobs = jobs_table(metadata)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'jobs.sqlite'}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    runner = JobRunner(create_session_factory(engine), jobs)

    async def work(progress: Progress) -> dict[str, int]:
        raise RuntimeError("SELECT password FROM secrets")

    try:
        job_id = await runner.submit("acme", "boom", work)
        await runner.wait_all(10)
        job = await runner.get("acme", job_id)
        assert job is not None and job["status"] == "failed"
        assert "SELECT" not in job["message"] and "SELECT" not in job["error"]["detail"]
        assert job_id in job["error"]["detail"]
    finally:
        await engine.dispose()


async def test_a_progress_report_without_details_keeps_the_last_details(tmp_path):
    metadata = MetaData()
    jobs = jobs_table(metadata)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'jobs.sqlite'}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    runner = JobRunner(create_session_factory(engine), jobs)
    reported, resume = asyncio.Event(), asyncio.Event()

    async def work(progress: Progress) -> dict[str, int]:
        await progress("optimizing", 60, "best so far 4.2%", {"best_max_deviation_pct": 4.2})
        await progress("writing", 90, "writing the draft")
        reported.set()
        await resume.wait()
        return {"done": 1}

    try:
        job_id = await runner.submit("acme", "design", work)
        await asyncio.wait_for(reported.wait(), 5)
        running = await runner.get("acme", job_id)
        assert running is not None
        assert (running["stage"], running["percent"]) == ("writing", 90)
        assert running["result"] == {"progress": {"best_max_deviation_pct": 4.2}}
        resume.set()
        await runner.wait_all(10)
    finally:
        await engine.dispose()
