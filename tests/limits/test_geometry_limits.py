"""geo-service refuses layers beyond its caps: too many features per import, too many vertices per geometry."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient
from geo_service.api.app import create_app
from geo_service.settings import GeoSettings

from tests.support.auth import auth_headers

TENANT = auth_headers("geometry-limits")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp = tmp_path_factory.mktemp("geometry-limits")
    settings = GeoSettings(
        database_url=f"sqlite+aiosqlite:///{tmp / 'geo.sqlite'}",
        inprocess_bus_path=str(tmp / "bus.sqlite"),
        max_vertices=200,
        max_features=5,
    )
    with TestClient(create_app(settings)) as c:
        yield c


def _square(x: float, y: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[x, y], [x + 1, y], [x + 1, y + 1], [x, y + 1], [x, y]]]}


def _circle(vertices: int) -> dict:
    angles = np.linspace(0, 2 * np.pi, vertices, endpoint=False)
    ring = [[float(10 + np.cos(a)), float(10 + np.sin(a))] for a in angles]
    return {"type": "Polygon", "coordinates": [ring + [ring[0]]]}


def _layer(geometries: dict[str, dict]) -> bytes:
    features = [
        {"type": "Feature", "properties": {"id": fid}, "geometry": geometry} for fid, geometry in geometries.items()
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def _import(client: TestClient, content: bytes, **form: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/v1/layers",
        headers=TENANT,
        files={"file": ("layer.geojson", content)},
        data={"name": "capped", "id_column": "id", **form},
    )


def _job(client: TestClient, job_id: str) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}", headers=TENANT).json()
        if job["status"] in ("succeeded", "failed", "interrupted"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


def test_a_layer_with_more_features_than_the_cap_is_a_422_before_any_job(client):
    response = _import(client, _layer({f"u{i}": _square(i, 0) for i in range(6)}))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    error = response.json()["errors"][0]
    assert error["field"] == "file"
    assert error["reason"] == "6 features, more than the limit of 5 per import"


def test_asking_for_more_vertices_than_the_service_allows_is_a_422(client):
    response = _import(client, _layer({"a": _square(0, 0)}), max_vertices="1000")
    assert response.status_code == 422, response.text
    error = response.json()["errors"][0]
    assert error["field"] == "max_vertices"
    assert "at most 200 vertices" in error["reason"]


def test_a_geometry_over_the_vertex_cap_fails_the_import_naming_the_feature(client):
    response = _import(client, _layer({"fine": _square(0, 0), "jagged": _circle(500)}))
    assert response.status_code == 202, response.text
    job = _job(client, response.json()["job_id"])
    assert job["status"] == "failed"
    assert job["error"]["status"] == 422 and job["error"]["title"] == "Invalid features"
    assert job["error"]["problems"] == [{"feature_id": "jagged", "reason": "501 vertices, more than the limit of 200"}]
    assert client.get("/v1/layers", headers=TENANT).json() == []


def test_a_layer_within_the_caps_imports(client):
    response = _import(client, _layer({"a": _square(0, 0), "b": _circle(150)}))
    assert _job(client, response.json()["job_id"])["status"] == "succeeded"
