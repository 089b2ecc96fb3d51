"""Dependencies the routers share: the unit of work, geo-service, the ZIP table, the job runner, If-Match."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Header, Request
from territory_shared.api.etags import parse_if_match
from territory_shared.jobs import JobRunner

from assignment_service.db.unit_of_work import UnitOfWork
from assignment_service.domain.accounts import ZipPoint, ZipResolver
from assignment_service.use_cases.ports import GeoClient

if TYPE_CHECKING:
    from territory_geodata.zips import ZipLookup


def unit_of_work(request: Request) -> UnitOfWork:
    runtime = request.app.state.runtime
    return UnitOfWork(runtime.sessions, runtime.outbox_written)


def geo_client(request: Request) -> GeoClient:
    geo: GeoClient = request.app.state.geo
    return geo


def job_runner(request: Request) -> JobRunner:
    jobs: JobRunner = request.app.state.jobs
    return jobs


class ZipTable:
    """The package-shipped ZIP table (territory_geodata), loaded once on first use, off the event loop."""

    def __init__(self) -> None:
        self._lookup: ZipLookup | None = None
        self._lock = asyncio.Lock()

    async def resolver(self) -> ZipResolver:
        if self._lookup is None:
            async with self._lock:
                if self._lookup is None:
                    from territory_geodata.zips import load_zip_lookup

                    self._lookup = await asyncio.to_thread(load_zip_lookup)
        lookup = self._lookup

        def resolve(zip_code: str) -> ZipPoint | None:
            found = lookup.resolve(zip_code)
            return ZipPoint(found.lat, found.lon) if found else None

        return resolve


async def zip_resolver(request: Request) -> ZipResolver:
    zips: ZipTable = request.app.state.zips
    return await zips.resolver()


def job_location(request: Request, job_id: str) -> str:
    """The URL of ``GET /v1/jobs/{job_id}`` of this service.

    Not ``request.url_for``: embedded, the services are mounted side by side in one app, and ``url_for`` answers
    the first mounted route of that name, geo-service's ``/geo/v1/jobs/{id}``.
    """
    path = request.scope.get("root_path", "") + request.app.url_path_for("get_job", job_id=job_id)
    return str(request.url.replace(path=path, query=""))


def if_match(
    if_match: Annotated[
        str | None, Header(description='The ETag you read (e.g. "3"); a stale one gets 412 and changes nothing')
    ] = None,
) -> int | None:
    return parse_if_match(if_match)


Uow = Annotated[UnitOfWork, Depends(unit_of_work)]
Geo = Annotated[GeoClient, Depends(geo_client)]
Jobs = Annotated[JobRunner, Depends(job_runner)]
Zips = Annotated[ZipResolver, Depends(zip_resolver)]
ExpectedVersion = Annotated[int | None, Depends(if_match)]
