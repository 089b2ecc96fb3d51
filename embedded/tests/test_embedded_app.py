"""The embedded mode: three services in one app, SQLite files and the in-process bus under one data folder."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from territory_embedded.app import create_embedded_app


def test_health_lists_three_healthy_services_and_each_api_has_its_prefix(tmp_path):
    with TestClient(create_embedded_app(tmp_path / "data")) as client:
        health = client.get("/healthz")
        assert health.status_code == 200
        assert health.json()["status"] == "ok"
        assert set(health.json()["services"]) == {"geo-service", "assignment-service", "metrics-service"}
        for prefix in ("geo", "assignment", "metrics"):
            assert client.get(f"/{prefix}/healthz").status_code == 200
            assert client.get(f"/{prefix}/openapi.json").status_code == 200
    assert {p.name for p in (tmp_path / "data").iterdir()} >= {
        "geo.sqlite",
        "assignment.sqlite",
        "metrics.sqlite",
        "bus.sqlite",
    }


def test_a_territory_created_in_geo_is_counted_by_metrics_and_survives_a_restart(tmp_path):
    tenant = {"X-Tenant-ID": "acme"}
    with TestClient(create_embedded_app(tmp_path / "data")) as client:
        created = client.post("/geo/v1/territories", json={"code": "NE", "name": "North East"}, headers=tenant)
        assert created.status_code == 201
        assert created.headers["location"].endswith(f"/geo/v1/territories/{created.json()['id']}")
        deadline = time.monotonic() + 5
        while client.get("/metrics/v1/territory-count", headers=tenant).json()["territories"] != 1:
            assert time.monotonic() < deadline, "metrics never counted the territory"
            time.sleep(0.02)
    with TestClient(create_embedded_app(tmp_path / "data")) as client:
        assert client.get("/metrics/v1/territory-count", headers=tenant).json()["territories"] == 1
        assert len(client.get("/geo/v1/territories", headers=tenant).json()["items"]) == 1


def test_a_path_no_service_matches_is_a_problem_not_plain_json(tmp_path):
    # A newline in a path segment: the service mounts' patterns do not match it, so the outer app answers.
    with TestClient(create_embedded_app(tmp_path / "data")) as client:
        response = client.get("/geo/v1/layers/a%0Ab/units")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404
