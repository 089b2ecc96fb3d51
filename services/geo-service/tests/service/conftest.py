from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from geo_service.api.app import create_app
from geo_service.settings import GeoSettings

from tests.support.auth import auth_headers
from tests.support.databases import database_url  # noqa: F401 - fixture

from .boundaries import nc_shapefile_zip


@pytest.fixture(scope="module")
def client(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:  # noqa: F811
    bus_path = tmp_path_factory.mktemp("bus") / "bus.sqlite"
    settings = GeoSettings(database_url=database_url, bus_kind="inprocess", inprocess_bus_path=str(bus_path))
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture
def sales_force() -> str:
    """A sales force of its own, so policies and schedules set by one test touch no other."""
    return f"sf-{uuid.uuid4().hex[:8]}"


def nc_layer(client: TestClient, headers: dict[str, str], folder: Path) -> str:
    """North Carolina's counties imported as a layer for the headers' tenant; the layer's id."""
    job = import_file(client, headers, nc_shapefile_zip(folder), name="NC", id_column="FIPS")
    assert job["status"] == "succeeded", job
    return str(job["result"]["layer_id"])


def new_draft(client: TestClient, headers: dict[str, str], layer: str, sales_force: str) -> dict:
    body = {"name": "FY27", "sales_force": sales_force, "layer_id": layer}
    r = client.post("/v1/alignments", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def tenant() -> dict[str, str]:
    return auth_headers(f"t-{uuid.uuid4().hex[:8]}")


def wait_for_job(client: TestClient, tenant: dict[str, str], job_id: str, deadline_s: float = 120) -> dict:
    deadline = time.monotonic() + deadline_s
    seen_stages = []
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}", headers=tenant).json()
        seen_stages.append(job["stage"])
        if job["status"] in ("succeeded", "failed", "interrupted"):
            job["seen_stages"] = seen_stages
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def import_file(
    client: TestClient,
    tenant: dict[str, str],
    path: Path | None = None,
    content: bytes | None = None,
    filename: str | None = None,
    **form: str,
) -> dict:
    data = content if content is not None else path.read_bytes()  # type: ignore[union-attr]
    r = client.post(
        "/v1/layers",
        headers=tenant,
        files={"file": (filename or path.name, data)},  # type: ignore[union-attr]
        data=form,
    )
    assert r.status_code == 202, r.text
    assert r.headers["location"].endswith(f"/v1/jobs/{r.json()['job_id']}")
    return wait_for_job(client, tenant, r.json()["job_id"])
