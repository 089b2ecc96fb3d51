"""The platform the fuzzing runs against: the three services in one process (the embedded mode: SQLite files and
the in-process bus), with a small seeded dataset so generated path parameters sometimes name real resources.

Requests go in-process through schemathesis' ASGI client, which also runs the app's lifespan (relays, consumers
and jobs as tasks of its loop). Every request carries the credentials of ``tests.support.auth``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.python import asgi
from territory_embedded.app import create_embedded_app

from tests.support.auth import auth_headers

TENANT = "fuzz"
SERVICES = ("geo", "assignment", "metrics")


@dataclass
class Platform:
    app: Any
    client: asgi.ASGIClient
    # path parameter name -> ids of seeded resources, per service
    known: dict[str, dict[str, list[str]]] = field(default_factory=lambda: {s: {} for s in SERVICES})

    def call(self, method: str, url: str, expect: int | tuple[int, ...] = (200, 201, 202), **kwargs: Any) -> Any:
        headers = {**auth_headers(TENANT), **kwargs.pop("headers", {})}
        response = self.client.request(method, url, headers=headers, **kwargs)
        expected = (expect,) if isinstance(expect, int) else expect
        assert response.status_code in expected, f"{method} {url}: {response.status_code} {response.text}"
        return response

    def wait_for_job(self, service: str, job_id: str, must_succeed: bool = True) -> dict[str, Any]:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            job = self.call("GET", f"/{service}/v1/jobs/{job_id}").json()
            if job["status"] not in ("queued", "running"):
                assert job["status"] == "succeeded" or not must_succeed, job
                return job  # type: ignore[no-any-return]
            time.sleep(0.05)
        raise AssertionError(f"job {job_id} did not finish")

    def remember(self, service: str, name: str, value: str) -> None:
        self.known[service].setdefault(name, []).append(value)


def _square(x: float, y: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[x, y], [x + 1, y], [x + 1, y + 1], [x, y + 1], [x, y]]]}


def _seed(p: Platform) -> None:
    units = {f"u{i}": _square(-80 + i, 35) for i in range(4)}
    layer = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"id": uid, "pop": 100 * (i + 1)}, "geometry": geometry}
            for i, (uid, geometry) in enumerate(units.items())
        ],
    }
    accepted = p.call(
        "POST",
        "/geo/v1/layers",
        files={"file": ("units.geojson", json.dumps(layer).encode())},
        data={"name": "fuzz units", "id_column": "id", "attributes": "pop"},
    ).json()
    layer_id = p.wait_for_job("geo", accepted["job_id"])["result"]["layer_id"]
    p.remember("geo", "layer_id", layer_id)
    p.remember("geo", "job_id", accepted["job_id"])

    alignment = p.call("POST", "/geo/v1/alignments", json={"name": "FY", "sales_force": "field", "layer_id": layer_id})
    alignment_id = alignment.json()["id"]
    codes = []
    for i in range(2):
        territory = p.call(
            "POST", "/geo/v1/territories", json={"code": f"T{i}", "name": f"T {i}", "alignment_id": alignment_id}
        ).json()
        codes.append(territory["code"])
        p.remember("geo", "territory_id", territory["id"])
        etag = p.call("GET", f"/geo/v1/alignments/{alignment_id}").headers["etag"]
        p.call(
            "POST",
            f"/geo/v1/alignments/{alignment_id}/moves",
            json={"unit_ids": [f"u{2 * i}", f"u{2 * i + 1}"], "territory_id": territory["id"]},
            headers={"If-Match": etag},
        )
    etag = p.call("GET", f"/geo/v1/alignments/{alignment_id}").headers["etag"]
    p.call("POST", f"/geo/v1/alignments/{alignment_id}/publish", headers={"If-Match": etag})
    draft = p.call(
        "POST", "/geo/v1/alignments", json={"name": "what-if", "sales_force": "field", "copy_from": alignment_id}
    )
    for service in ("geo", "metrics"):
        p.remember(service, "alignment_id", alignment_id)
        p.remember(service, "alignment_id", draft.json()["id"])

    accounts = [
        {"external_id": f"a{i}", "name": f"Account {i}", "lat": 35.5, "lon": -79.5 + i, "potential": 1000.0 * i}
        for i in range(4)
    ]
    p.call(
        "POST",
        "/assignment/v1/accounts/bulk",
        data=json.dumps(accounts),
        headers={"content-type": "application/json"},
    )
    for a in accounts:
        p.remember("assignment", "external_id", a["external_id"])
        p.remember("assignment", "account_external_id", a["external_id"])
    p.call("PUT", "/assignment/v1/reps/r1", json={"name": "Ana", "home_lat": 35.5, "home_lon": -79.5})
    p.remember("assignment", "external_id", "r1")
    entry = p.call(
        "POST",
        "/assignment/v1/roster-entries",
        json={"sales_force": "field", "territory_code": codes[0], "rep_external_id": "r1"},
    ).json()
    p.remember("assignment", "entry_id", entry["id"])
    p.remember("assignment", "sales_force", "field")
    deadline = time.monotonic() + 20  # the publish reaches assignment-service as an event
    while not (runs := p.call("GET", "/assignment/v1/realignments").json()) and time.monotonic() < deadline:
        time.sleep(0.1)
    for run in runs:
        p.remember("assignment", "run_id", run["id"])


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    app = create_embedded_app(tmp_path_factory.mktemp("fuzz"))
    client = asgi.get_client(app)
    with client:
        p = Platform(app, client)
        _seed(p)
        try:
            yield p
        finally:
            asgi.shutdown_lifespans()


def _schema(platform: Platform, service: str) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_asgi(f"/{service}/openapi.json", platform.app)
    known = platform.known[service]

    @schema.hook
    def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
        if not path_parameters:
            return st.just(path_parameters)
        # Half of the time, each parameter we have seeded ids for names a real resource.
        real = {
            name: st.sampled_from(known[name]) if name in known else st.just(value)
            for name, value in path_parameters.items()
        }
        return st.one_of(st.just(path_parameters), st.fixed_dictionaries(real))

    return schema


@pytest.fixture(scope="session")
def schemas(platform: Platform) -> dict[str, schemathesis.BaseSchema]:
    return {service: _schema(platform, service) for service in SERVICES}


def operations() -> list[tuple[str, str, str]]:
    """(service, method, path) of every operation, read from the apps' specs without starting them."""
    from assignment_service.api.app import create_app as assignment_app
    from assignment_service.settings import AssignmentSettings
    from geo_service.api.app import create_app as geo_app
    from geo_service.settings import GeoSettings
    from metrics_service.api.app import create_app as metrics_app
    from metrics_service.settings import MetricsSettings

    apps = {
        "geo": geo_app(GeoSettings()),
        "assignment": assignment_app(AssignmentSettings()),
        "metrics": metrics_app(MetricsSettings()),
    }
    return [
        (service, method.upper(), path)
        for service, app in apps.items()
        for path, methods in app.openapi()["paths"].items()
        for method in methods
    ]
