"""assignment-service starts on a migrated SQLite or PostGIS database and reports its health."""

from __future__ import annotations

import pytest
from assignment_service.api.app import create_app
from assignment_service.settings import AssignmentSettings
from fastapi.testclient import TestClient

from tests.support.databases import database_url, fetch_all  # noqa: F401 - fixture
from tests.support.processes import free_port

pytestmark = pytest.mark.postgis


def test_migrations_run_before_serving_and_health_answers(database_url, tmp_path):  # noqa: F811
    settings = AssignmentSettings(database_url=database_url, inprocess_bus_path=str(tmp_path / "bus.sqlite"))
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").json() == {"status": "ok", "service": "assignment-service"}
        assert client.get("/readyz").status_code == 200
        assert "/healthz" in client.get("/openapi.json").json()["paths"]
    assert fetch_all(database_url, "SELECT count(*) AS n FROM outbox")[0]["n"] == 0
    assert fetch_all(database_url, "SELECT version_num FROM alembic_version") == [{"version_num": "0007"}]


def test_readiness_reports_geo_service_down_as_degraded(database_url, tmp_path):  # noqa: F811
    nobody = f"http://127.0.0.1:{free_port()}"
    settings = AssignmentSettings(
        database_url=database_url, inprocess_bus_path=str(tmp_path / "bus.sqlite"), geo_url=nobody
    )
    with TestClient(create_app(settings)) as client:
        ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "degraded",
        "service": "assignment-service",
        "checks": {"database": True},
        "dependencies": {"geo-service": False},
    }
