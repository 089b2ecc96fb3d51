"""Dependencies the routers share: the unit of work, the index cache, the job runner, If-Match."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from territory_shared.api.etags import parse_if_match
from territory_shared.jobs import JobRunner

from geo_service.db.unit_of_work import UnitOfWork
from geo_service.spatial_index import IndexCache


def unit_of_work(request: Request) -> UnitOfWork:
    runtime = request.app.state.runtime
    return UnitOfWork(runtime.sessions, runtime.outbox_written)


def index_cache(request: Request) -> IndexCache:
    cache: IndexCache = request.app.state.index_cache
    return cache


def job_runner(request: Request) -> JobRunner:
    jobs: JobRunner = request.app.state.jobs
    return jobs


def if_match(
    if_match: Annotated[
        str | None, Header(description='The ETag you read (e.g. "3"); a stale one gets 412 and changes nothing')
    ] = None,
) -> int | None:
    return parse_if_match(if_match)


Uow = Annotated[UnitOfWork, Depends(unit_of_work)]
Cache = Annotated[IndexCache, Depends(index_cache)]
Jobs = Annotated[JobRunner, Depends(job_runner)]
ExpectedVersion = Annotated[int | None, Depends(if_match)]
