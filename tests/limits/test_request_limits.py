"""Hostile input is refused with a problem+json naming the limit: bodies too large (declared or chunked), pages
too big, statements that run too long; and no error ever shows a stack trace or SQL."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from fastapi.testclient import TestClient
from geo_service.api.app import create_app
from geo_service.settings import GeoSettings
from sqlalchemy.exc import IntegrityError

from tests.support.auth import auth_headers
from tests.support.postgres import SERVER, async_url, create_database, drop_database

PROBLEM = "application/problem+json"
TENANT = auth_headers("limits")


def _settings(tmp: Path, database_url: str | None = None, **limits: object) -> GeoSettings:
    return GeoSettings(
        database_url=database_url or f"sqlite+aiosqlite:///{tmp / 'geo.sqlite'}",
        inprocess_bus_path=str(tmp / "bus.sqlite"),
        **limits,
    )


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = _settings(tmp_path_factory.mktemp("limits"), max_body_bytes=4096, max_upload_bytes=64 * 1024)
    app = create_app(settings)

    @app.get("/v1/boom", include_in_schema=False)
    async def boom() -> None:
        raise RuntimeError("SELECT secret FROM tenants WHERE password = 'hunter2'")

    @app.get("/v1/duplicate", include_in_schema=False)
    async def duplicate() -> None:
        raise IntegrityError("INSERT INTO territories (code) VALUES ('A')", {"code": "A"}, Exception("dup key"))

    # Routes only this test has: let the admin the test signs in as call them.
    app.state.access |= {("GET", "/v1/boom"): frozenset({"admin"}), ("GET", "/v1/duplicate"): frozenset({"admin"})}

    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _assert_problem(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"]
    return body


def _chunks(total: int, size: int = 1000) -> Iterator[bytes]:
    for _ in range(total // size):
        yield b" " * size


def test_a_json_body_over_the_limit_is_refused_by_its_declared_length(client):
    body = {"code": "A", "name": "x" * 5000}
    problem = _assert_problem(client.post("/v1/territories", headers=TENANT, json=body), 413)
    assert "4 KiB" in problem["detail"]
    assert problem["errors"] == [{"field": "body", "location": "body", "reason": "larger than the limit of 4 KiB"}]


def test_a_chunked_body_without_length_is_refused_once_it_passes_the_limit(client):
    headers = {**TENANT, "content-type": "application/json"}
    response = client.post("/v1/territories", headers=headers, content=_chunks(10_000))
    assert "content-length" not in response.request.headers
    assert _assert_problem(response, 413)["max_bytes"] == 4096


def test_upload_endpoints_take_more_than_json_ones_up_to_their_own_limit(client):
    rows = b"id,lon,lat\n" + b"".join(f"p{i},-78.6,35.8\n".encode() for i in range(300))
    assert 4096 < len(rows) < 64 * 1024
    csv = {**TENANT, "content-type": "text/csv"}
    # Over the JSON limit but within the upload one: read, then refused for another reason (no alignment).
    assert client.post("/v1/locate", headers=csv, content=rows).status_code in (422, 404)
    _assert_problem(client.post("/v1/locate", headers=csv, content=_chunks(100_000)), 413)
    _assert_problem(client.post("/v1/locate", headers=csv, content=b"x" * 100_000), 413)


def test_a_page_size_over_the_cap_is_a_422_naming_the_parameter(client):
    problem = _assert_problem(client.get("/v1/territories?limit=1001", headers=TENANT), 422)
    assert problem["errors"][0]["field"] == "limit"
    problem = _assert_problem(client.get("/v1/territories?offset=10000000000000000000000", headers=TENANT), 422)
    assert problem["errors"][0]["field"] == "offset"


def test_an_unexpected_error_is_a_generic_500_with_the_correlation_id_only(client):
    response = client.get("/v1/boom", headers={**TENANT, "X-Request-ID": "req-123"})
    problem = _assert_problem(response, 500)
    assert problem["correlation_id"] == "req-123"
    assert response.headers["x-request-id"] == "req-123"
    for leak in ("secret", "hunter2", "Traceback", "RuntimeError", "SELECT"):
        assert leak not in response.text


def test_a_database_constraint_error_never_shows_its_statement(client):
    response = client.get("/v1/duplicate", headers=TENANT)
    _assert_problem(response, 409)
    for leak in ("INSERT", "territories", "dup key"):
        assert leak not in response.text


def test_a_file_that_cannot_be_read_is_refused_without_the_servers_paths(client):
    response = client.post(
        "/v1/layers",
        headers=TENANT,
        files={"file": ("units.gpkg", b"not a geopackage at all")},
        data={"name": "broken", "id_column": "id"},
    )
    problem = _assert_problem(response, 422)
    assert "cannot be read as gpkg" in problem["detail"]
    assert "/tmp" not in response.text


@pytest.fixture(scope="module")
def postgis_url() -> Iterator[str]:
    name = create_database("test_limits")
    try:
        yield async_url(name)
    finally:
        drop_database(name)


class _TableLock:
    """Holds an exclusive lock on a table from another connection, so a statement on it waits."""

    def __init__(self, database: str, table: str) -> None:
        self._database, self._table = database, table
        self._locked, self._release = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._hold()), daemon=True)

    async def _hold(self) -> None:
        conn = await asyncpg.connect(f"postgresql://{SERVER}/{self._database}")
        try:
            async with conn.transaction():
                await conn.execute(f"LOCK TABLE {self._table} IN ACCESS EXCLUSIVE MODE")
                self._locked.set()
                await asyncio.get_running_loop().run_in_executor(None, self._release.wait, 30)
        finally:
            await conn.close()

    def __enter__(self) -> _TableLock:
        self._thread.start()
        assert self._locked.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        self._thread.join(10)


@pytest.mark.postgis
def test_a_request_statement_over_the_timeout_is_a_503_problem_and_jobs_keep_the_longer_one(postgis_url, tmp_path):
    settings = _settings(tmp_path, postgis_url, statement_timeout_s=0.3, job_statement_timeout_s=60)
    app = create_app(settings)

    @app.get("/v1/timeouts", include_in_schema=False)
    async def timeouts() -> dict[str, str]:
        from sqlalchemy import text
        from territory_shared.db.timeouts import use_default_statement_timeout

        engine = app.state.runtime.engine

        async def show() -> str:
            async with engine.connect() as conn:
                return str((await conn.execute(text("SHOW statement_timeout"))).scalar())

        async def as_job() -> str:
            use_default_statement_timeout()
            return await show()

        return {"request": await show(), "job": await asyncio.create_task(as_job()), "again": await show()}

    app.state.access |= {("GET", "/v1/timeouts"): frozenset({"admin"})}
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/v1/timeouts", headers=TENANT).json() == {
            "request": "300ms",
            "job": "1min",
            "again": "300ms",
        }
        with _TableLock(postgis_url.rsplit("/", 1)[1], "territories"):
            response = client.get("/v1/territories", headers=TENANT)
        problem = _assert_problem(response, 503)
        assert "statement timeout of 0.3 s" in problem["detail"]
        assert response.headers["retry-after"]
        assert "SELECT" not in response.text and "canceling statement" not in response.text
        assert client.get("/v1/territories", headers=TENANT).status_code == 200
