"""README.md's "Running it distributed", run as written: its shell block's exports and processes, against the local
PostGIS and Kafka, then a layer imported, alignments published and accounts pushed through the three APIs. Accounts
are assigned and realigned (geo-service's relay, assignment-service's consumer) and reach metrics-service
(assignment-service's relay, metrics-service's consumer): a process the README forgets fails this test.

Only what would clash with other tests is changed: each database name becomes a throwaway database, each port a free
one (the services find each other through their `*_URL` settings), and a topic prefix of our own comes from the
environment.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.e2e.assignment_platform import CHARLOTTE, DURHAM, DURHAM_CITY, MECKLENBURG, RALEIGH, WAKE, draft, import_nc
from tests.support.auth import auth_headers
from tests.support.postgres import SERVER, create_database, drop_database
from tests.support.processes import eventually, free_port

pytestmark = [pytest.mark.postgis, pytest.mark.kafka, pytest.mark.timeout(1200)]

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {"geo": 8001, "assignment": 8002, "metrics": 8003}  # the ports the README gives the APIs


def readme_block() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Running it distributed", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, "no ```sh block in README's 'Running it distributed'"
    return match.group(1)


def substituted(block: str, databases: dict[str, str], ports: dict[str, int]) -> str:
    for service, database in databases.items():
        literal = f"postgresql+asyncpg://territory:territory@127.0.0.1:5432/territory_{service}"
        assert literal in block, f"the README no longer names {literal}"
        block = block.replace(literal, f"postgresql+asyncpg://{SERVER}/{database}")
    for service, port in SERVICES.items():
        assert f"--port {port}" in block, f"the README no longer starts {service}-service's API on {port}"
        block = block.replace(f"--port {port}", f"--port {ports[service]}")
    return block


def exported(block: str, base: dict[str, str]) -> dict[str, str]:
    """The environment after the block's ``export`` lines, evaluated by bash as a reader's shell would."""
    exports = "\n".join(line for line in block.splitlines() if line.startswith("export "))
    out = subprocess.run(["bash", "-c", f"{exports}\nenv -0"], env=base, capture_output=True, check=True).stdout
    return dict(item.split("=", 1) for item in out.decode().split("\0") if "=" in item)


def commands(block: str) -> list[list[str]]:
    """Every command the block sends to the background (``a & b &``), split into argv."""
    found: list[list[str]] = []
    for line in block.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("export "):
            continue
        assert line.endswith("&") and "&&" not in line, f"not a line of background processes: {line}"
        found += [shlex.split(part) for part in line.split("&") if part.strip()]
    return found


@dataclass
class Started:
    argv: list[str]
    log: Path
    proc: subprocess.Popen[bytes] = field(init=False)

    def start(self, env: dict[str, str]) -> Started:
        argv = list(self.argv)
        if argv[0] == "uv":  # the same uv that runs these tests, wherever it is installed
            argv[0] = os.environ.get("UV") or shutil.which("uv") or "uv"
        with self.log.open("ab") as log:
            # A session of its own: `uv run` starts the service as its child, and cleanup stops both.
            self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True)
        return self

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:]) if self.log.exists() else ""


@dataclass
class Distributed:
    env: dict[str, str]
    urls: dict[str, str]
    processes: list[Started]

    def report(self) -> str:
        return "\n".join(f"--- {' '.join(p.argv)} (exit {p.proc.poll()})\n{p.tail()}" for p in self.processes)


@pytest.fixture(scope="module")
def distributed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Distributed]:
    workdir = tmp_path_factory.mktemp("readme-distributed")
    databases = {s: create_database(f"readme_{s}") for s in SERVICES}
    ports = {s: free_port() for s in SERVICES}
    urls = {s: f"http://127.0.0.1:{port}" for s, port in ports.items()}
    prefix = f"readme-{uuid.uuid4().hex[:8]}."
    base = {
        **os.environ,
        "UV_FROZEN": "1",  # as every command of the test suite: never touch uv.lock
        **{f"{s.upper()}_KAFKA_TOPIC_PREFIX": prefix for s in SERVICES},
        # The README leaves them at their defaults, the README's own ports.
        "ASSIGNMENT_GEO_URL": urls["geo"],
        "METRICS_GEO_URL": urls["geo"],
        "METRICS_ASSIGNMENT_URL": urls["assignment"],
        "LOG_LEVEL": "INFO",
    }
    block = substituted(readme_block(), databases, ports)
    env = exported(block, base)
    processes = [
        Started(argv, workdir / f"{i:02d}-{'-'.join(argv[2:4])}.log") for i, argv in enumerate(commands(block))
    ]
    d = Distributed(env, urls, processes)
    try:
        for p in processes:
            p.start(env)
        for service, url in urls.items():
            eventually(
                lambda url=url: _ready(url, d),
                deadline_s=600,  # every process imports and migrates at once: minutes on a loaded machine
                interval_s=0.5,
                message=f"{service}-service's API ready",
            )
        yield d
    finally:
        for p in processes:
            if hasattr(p, "proc"):
                p.stop()
        for database in databases.values():
            drop_database(database)


def _ready(url: str, d: Distributed) -> bool:
    exited = [p for p in d.processes if p.proc.poll() is not None]
    assert not exited, f"a process of the README exited:\n{d.report()}"
    try:
        return httpx.get(f"{url}/readyz", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def test_the_readme_starts_every_service_with_its_relay_and_consumer(distributed: Distributed) -> None:
    started = {tuple(p.argv[2:4]) for p in distributed.processes}
    assert started == {
        ("geo-service", "api"),
        ("geo-service", "relay"),
        ("assignment-service", "api"),
        ("assignment-service", "relay"),
        ("assignment-service", "consumer"),
        ("metrics-service", "api"),
        ("metrics-service", "relay"),
        ("metrics-service", "consumer"),
    }


def test_the_distributed_steps_as_written_realign_accounts_and_feed_metrics(distributed: Distributed, tmp_path) -> None:
    tenant = auth_headers(f"readme-{uuid.uuid4().hex[:8]}", secret=distributed.env["AUTH_JWT_SECRET"])
    urls = distributed.urls
    with (
        httpx.Client(base_url=urls["geo"], headers=tenant, timeout=60) as geo,
        httpx.Client(base_url=urls["assignment"], headers=tenant, timeout=60) as assignment,
        httpx.Client(base_url=urls["metrics"], headers=tenant, timeout=60) as metrics,
    ):
        layer = import_nc(geo, tmp_path)
        rows = [
            {"external_id": "raleigh", "lat": RALEIGH[1], "lon": RALEIGH[0], "potential": 100},
            {"external_id": "durham", "lat": DURHAM_CITY[1], "lon": DURHAM_CITY[0], "potential": 40},
            {"external_id": "charlotte", "lat": CHARLOTTE[1], "lon": CHARLOTTE[0], "potential": 10},
        ]
        r = assignment.post(
            "/v1/accounts/bulk",
            content="\n".join(json.dumps(row) for row in rows).encode(),
            headers={"content-type": "application/x-ndjson"},
        )
        assert r.status_code == 200, r.text

        # Published after the accounts exist: only the event, through geo-service's relay and assignment-service's
        # consumer, can assign them.
        first = draft(geo, layer, {"EAST": [WAKE, DURHAM], "WEST": [MECKLENBURG]})
        assert geo.post(f"/v1/alignments/{first}/publish").status_code == 200
        eventually(
            lambda: _owners(assignment) == {"raleigh": "EAST", "durham": "EAST", "charlotte": "WEST"},
            deadline_s=180,
            interval_s=0.5,
            message=f"accounts assigned after the first publish\n{distributed.report()}",
        )

        # Durham moves to WEST: its account follows.
        second = draft(geo, layer, {"EAST": [WAKE], "WEST": [MECKLENBURG, DURHAM]})
        assert geo.post(f"/v1/alignments/{second}/publish").status_code == 200
        eventually(
            lambda: _owners(assignment) == {"raleigh": "EAST", "durham": "WEST", "charlotte": "WEST"},
            deadline_s=180,
            interval_s=0.5,
            message=f"accounts realigned after the second publish\n{distributed.report()}",
        )

        # The accounts' events left assignment-service through its relay, and metrics-service's consumer applied them.
        eventually(
            lambda: _account_counts(metrics, second) == {"EAST": 1, "WEST": 2},
            deadline_s=180,
            interval_s=0.5,
            message=f"metrics-service counts the accounts per territory\n{distributed.report()}",
        )
    assert all(p.proc.poll() is None for p in distributed.processes), distributed.report()


def _owners(assignment: httpx.Client) -> dict[str, str | None]:
    r = assignment.get("/v1/sales-forces/field/assignments")
    return {i["external_id"]: i["territory_code"] for i in r.json()["items"]} if r.status_code == 200 else {}


def _account_counts(metrics: httpx.Client, alignment_id: str) -> dict[str, int]:
    r = metrics.get(f"/v1/alignments/{alignment_id}/metrics")
    if r.status_code != 200:
        return {}
    return {t["code"]: int(t["values"].get("account_count", 0)) for t in r.json()["territories"] if t["leaf"]}
