"""metrics-service follows geo-service live, in both ways to run: an edit or a publish shows in the metrics
within a second, and drift out of balance leaves metrics-service as an event on the bus.

Its own fixture: the distributed platform with ``METRICS_GEO_URL`` pointing at geo-service and a metrics
outbox relay; the embedded one wires geo-service's app into metrics-service in-process.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import libpysal
import pytest
from kafka import KafkaConsumer

from tests.e2e.platforms import KAFKA, DistributedPlatform, EmbeddedPlatform, Platform
from tests.support.auth import auth_headers, tenant_of
from tests.support.processes import ServiceProcess, eventually, wait_ready

pytestmark = [pytest.mark.postgis, pytest.mark.kafka]

WAKE, DURHAM, ORANGE = "37183", "37063", "37135"


@pytest.fixture(scope="module", params=["kafka", "embedded"])
def metrics_platform(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    workdir = tmp_path_factory.mktemp(f"metrics-{request.param}")
    if request.param == "kafka":
        p: Platform = DistributedPlatform(workdir)
        extra = {"METRICS_GEO_URL": p.geo_url, "METRICS_BALANCE_METRICS": '["BIR74"]'}
        for proc in (p.metrics_api, p.consumer):
            proc.env |= extra
        relay = ServiceProcess("metrics-relay", ["-m", "metrics_service.cli", "relay"], {}, workdir)
        relay.env = dict(p.consumer.env)
        p.processes.append(relay)
    else:
        p = EmbeddedPlatform(workdir)
        p.process.env |= {"METRICS_BALANCE_METRICS": '["BIR74"]'}
        cli = Path(__import__("territory_embedded.cli").cli.__file__).read_text()
        if "--no-demo" in cli:
            p.process.args.append("--no-demo")
    try:
        _start(p)
        yield p
    finally:
        p.close()


def _start(p: Platform) -> None:
    """``p.start()`` with a longer deadline: on a busy machine a process can take a minute to import and migrate."""
    if isinstance(p, DistributedPlatform):
        for proc in p.processes:
            proc.start()
        for url, proc in (
            (f"{p.geo_url}/readyz", p.geo_api),
            (f"{p.metrics_url}/readyz", p.metrics_api),
            (f"http://127.0.0.1:{p.assignment_port}/readyz", p.assignment_api),
        ):
            wait_ready(url, proc, deadline_s=300)
    else:
        p.process.start()
        wait_ready(f"{p.base_url}/healthz", p.process, deadline_s=300)


def nc_zip(folder: Path) -> bytes:
    shp = Path(libpysal.examples.get_path("sids2.shp"))
    out = folder / "sids2.zip"
    with zipfile.ZipFile(out, "w") as z:
        for suffix in (".shp", ".shx", ".dbf"):
            z.write(shp.with_suffix(suffix), f"sids2{suffix}")
    return out.read_bytes()


def leaf_units(metrics: httpx.Client, alignment_id: str) -> dict[str, int]:
    r = metrics.get(f"/v1/alignments/{alignment_id}/metrics")
    if r.status_code != 200:
        return {}
    return {t["code"]: t["unit_count"] for t in r.json()["territories"] if t["leaf"]}


def out_of_balance_events(platform: Platform) -> list[dict]:
    if isinstance(platform, DistributedPlatform):
        consumer = KafkaConsumer(
            platform.prefix + "metrics.territory",
            bootstrap_servers=KAFKA,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            consumer_timeout_ms=2000,
        )
        try:
            return [json.loads(r.value) for r in consumer]
        finally:
            consumer.close()
    with sqlite3.connect(platform.data_dir / "bus.sqlite") as conn:
        rows = conn.execute("SELECT value FROM messages WHERE topic = 'metrics.territory' ORDER BY seq").fetchall()
    return [json.loads(v) for (v,) in rows]


def test_edits_and_publish_in_geo_service_show_in_metrics_within_a_second(metrics_platform, tmp_path):
    tenant = auth_headers(f"e2e-{uuid.uuid4().hex[:8]}")
    geo = httpx.Client(base_url=metrics_platform.geo_url, headers=tenant, timeout=60)
    metrics = httpx.Client(base_url=metrics_platform.metrics_url, headers=tenant, timeout=60)
    r = geo.post(
        "/v1/layers",
        files={"file": ("sids2.zip", nc_zip(tmp_path))},
        data={"name": "NC", "id_column": "FIPS", "attributes": "BIR74"},
    )
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    job = eventually(
        lambda: (j := geo.get(f"/v1/jobs/{job_id}").json())["status"] in ("succeeded", "failed") and j, 180
    )
    assert job["status"] == "succeeded", job
    a = geo.post("/v1/alignments", json={"name": "e2e", "sales_force": "field", "layer_id": job["result"]["layer_id"]})
    a = a.json()
    territories = {
        code: geo.post("/v1/territories", json={"code": code, "name": code, "alignment_id": a["id"]}).json()["id"]
        for code in ("A", "B")
    }
    # The first event brings the layer's units into metrics-service (once): wait for it before timing.
    eventually(lambda: metrics.get(f"/v1/alignments/{a['id']}/metrics").status_code == 200, 60, message="projected")
    version = a["version"]
    timings = []
    for units, code, expected in (
        ([WAKE, DURHAM], "A", {"A": 2, "B": 0}),
        ([ORANGE], "B", {"A": 2, "B": 1}),
        ([DURHAM], "B", {"A": 1, "B": 2}),
    ):
        r = geo.post(
            f"/v1/alignments/{a['id']}/moves",
            json={"unit_ids": units, "territory_id": territories[code]},
            headers={"If-Match": f'"{version}"'},
        )
        assert r.status_code == 200, r.text
        version = r.json()["alignment"]["version"]
        started = time.monotonic()
        eventually(lambda e=expected: leaf_units(metrics, a["id"]) == e, 10, 0.02, f"units {expected}")
        timings.append(time.monotonic() - started)
    assert max(timings) < 1.0, timings

    r = geo.post(f"/v1/alignments/{a['id']}/publish", headers={"If-Match": f'"{version}"'})
    assert r.status_code == 200, r.text
    started = time.monotonic()
    eventually(lambda: metrics.get("/v1/alignments", params={"state": "active"}).json(), 10, 0.02, "active in metrics")
    assert time.monotonic() - started < 1.0
    trend = eventually(lambda: metrics.get(f"/v1/alignments/{a['id']}/trend").json()["points"], 10, 0.05, "snapshot")
    assert trend[0]["reason"] == "publish"
    # A (Wake) has far more births than B (Durham, Orange): both are out of a 10 % band, and told on the bus.
    told = eventually(
        lambda: [e for e in out_of_balance_events(metrics_platform) if e["tenantid"] == tenant_of(tenant)],
        30,
        0.2,
        "out_of_balance events on the bus",
    )
    assert {e["data"]["territory_code"] for e in told} == {"A", "B"}
    assert {e["type"] for e in told} == {"metrics.territory.out_of_balance_detected.v1"}
