"""The platform with assignment-service's relay (and webhook worker) and consumer, and the steps the
end-to-end tests of accounts and realignments share: import North Carolina's counties, draft, publish.
"""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

import httpx
import libpysal
from kafka import KafkaConsumer

from tests.e2e.platforms import DistributedPlatform, EmbeddedPlatform
from tests.support.postgres import async_url
from tests.support.processes import ServiceProcess, eventually, wait_ready

WAKE, DURHAM, MECKLENBURG, ORANGE = "37183", "37063", "37119", "37135"
RALEIGH, DURHAM_CITY, CHARLOTTE = (-78.6382, 35.7796), (-78.8986, 35.9940), (-80.8431, 35.2271)
SECRET = "e2e-webhook-secret-0123456789"
FAST = {"ASSIGNMENT_WEBHOOK_BACKOFF_S": "0.2", "ASSIGNMENT_WEBHOOK_MAX_BACKOFF_S": "1"}


class DistributedAssignmentPlatform(DistributedPlatform):
    """The distributed platform plus assignment-service's relay (with the webhook worker) and consumer."""

    def __init__(self, workdir: Path, **servers: str) -> None:
        super().__init__(workdir, **servers)
        self.assignment_url = f"http://127.0.0.1:{self.assignment_port}"
        self.assignment_db = async_url(self.databases["assignment"], self.pg_server)
        self.assignment_api.env |= {"ASSIGNMENT_GEO_URL": self.geo_url, **FAST}
        env = dict(self.assignment_api.env)
        cli = ["-m", "assignment_service.cli"]
        self.assignment_relay = ServiceProcess("assignment-relay", [*cli, "relay"], env, workdir)
        self.assignment_consumer = ServiceProcess("assignment-consumer", [*cli, "consumer"], env, workdir)
        self.processes += [self.assignment_relay, self.assignment_consumer]

    def start(self) -> None:
        # Nine processes start at once: give a loaded machine more than the default minute.
        for p in self.processes:
            p.start()
        wait_ready(f"{self.geo_url}/readyz", self.geo_api, deadline_s=600)
        wait_ready(f"{self.metrics_url}/readyz", self.metrics_api, deadline_s=600)
        wait_ready(f"{self.assignment_url}/readyz", self.assignment_api, deadline_s=600)

    def notices(self) -> list[dict]:
        consumer = KafkaConsumer(
            self.prefix + "assignment.realignment",
            bootstrap_servers=self.kafka,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            consumer_timeout_ms=6000,
        )
        try:
            return [json.loads(r.value) for r in consumer]
        finally:
            consumer.close()


class EmbeddedAssignmentPlatform(EmbeddedPlatform):
    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.assignment_url = f"{self.base_url}/assignment"
        self.process.env |= {k: v for k, v in FAST.items()}

    def notices(self) -> list[dict]:
        with sqlite3.connect(self.data_dir / "bus.sqlite") as conn:
            rows = conn.execute(
                "SELECT value FROM messages WHERE topic = 'assignment.realignment' ORDER BY seq"
            ).fetchall()
        return [json.loads(v) for (v,) in rows]


Platform = DistributedAssignmentPlatform | EmbeddedAssignmentPlatform


def import_nc(geo: httpx.Client, folder: Path) -> str:
    shp = Path(libpysal.examples.get_path("sids2.shp"))
    archive = folder / "sids2.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for suffix in (".shp", ".shx", ".dbf"):
            z.write(shp.with_suffix(suffix), f"sids2{suffix}")
    r = geo.post(
        "/v1/layers",
        files={"file": (archive.name, archive.read_bytes())},
        data={"name": "NC", "id_column": "FIPS", "attributes": "BIR74"},
    )
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    job = eventually(
        lambda: (j := geo.get(f"/v1/jobs/{job_id}").json())["status"] in ("succeeded", "failed") and j,
        deadline_s=120,
        message="NC layer imported",
    )
    assert job["status"] == "succeeded", job
    return job["result"]["layer_id"]


def draft(geo: httpx.Client, layer: str, territories: dict[str, list[str]], sales_force: str = "field") -> str:
    alignment = geo.post("/v1/alignments", json={"name": "plan", "sales_force": sales_force, "layer_id": layer}).json()
    version = alignment["version"]
    for code, units in territories.items():
        t = geo.post("/v1/territories", json={"code": code, "name": code, "alignment_id": alignment["id"]}).json()
        m = geo.post(
            f"/v1/alignments/{alignment['id']}/moves",
            json={"unit_ids": units, "territory_id": t["id"]},
            headers={"If-Match": f'"{version}"'},
        )
        assert m.status_code == 200, m.text
        version = m.json()["alignment"]["version"]
    return alignment["id"]


def publish(geo: httpx.Client, assignment: httpx.Client, alignment_id: str) -> dict:
    assert geo.post(f"/v1/alignments/{alignment_id}/publish").status_code == 200
    return eventually(
        lambda: next(
            (
                r
                for r in assignment.get("/v1/realignments").json()
                if r["alignment_id"] == alignment_id and r["status"] == "completed"
            ),
            None,
        ),
        deadline_s=180,  # the first run waits for the consumer to join its group
        message=f"realignment of {alignment_id} completed",
    )


def owners(assignment: httpx.Client, sales_force: str = "field") -> dict[str, str | None]:
    items = assignment.get(f"/v1/sales-forces/{sales_force}/assignments").json()["items"]
    return {i["external_id"]: i["territory_code"] for i in items}
