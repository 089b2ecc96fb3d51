"""Each process started the way its image starts it, against PostGIS and Kafka, answers its probes and metrics.

The command is the image's ENTRYPOINT (the console script) plus the command docker-compose gives it; the
environment has the same variable names as docker-compose.yml, with local values (a throwaway database per
service, the test broker, free ports, a topic prefix of our own). The migration jobs run first, as compose runs
them, because the long-running processes are told not to migrate.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from territory_shared.observability import REFRESH_S

from tests.deploy.manifests import SERVICES, Service, compose, exec_form, parse_dockerfile
from tests.support.auth import auth_headers
from tests.support.postgres import async_url, create_database, drop_database
from tests.support.processes import ServiceProcess, eventually, free_port, wait_ready

pytestmark = [pytest.mark.postgis, pytest.mark.kafka]
KAFKA = "127.0.0.1:19092"


def scrape(url: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((sample.labels, sample.value))
    return out


def value(metrics: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    return sum(v for found, v in metrics.get(name, []) if labels.items() <= found.items())


class Deployment:
    """The compose file's processes, run locally."""

    def __init__(self, workdir: Path) -> None:
        self.services = compose()["services"]
        self.prefix = f"deploy-{uuid.uuid4().hex[:8]}."
        self.databases = {s: create_database(f"deploy_{s}") for s in SERVICES}
        self.api_ports = {s: free_port() for s in SERVICES}
        self.metrics_ports: dict[str, int] = {}
        self.workdir = workdir
        self.processes: dict[str, ServiceProcess] = {}

    def env(self, service: Service, process: str) -> dict[str, str]:
        env: dict[str, str] = {}
        for key, val in self.services[f"{service.name}-{process}"]["environment"].items():
            setting = key.removeprefix(service.prefix)
            if setting == "DATABASE_URL":
                val = async_url(self.databases[service.name])
            elif setting == "KAFKA_BOOTSTRAP_SERVERS":
                val = KAFKA
            elif setting == "METRICS_PORT":
                val = str(self.metrics_ports.setdefault(f"{service.name}-{process}", free_port()))
            elif setting.endswith("_URL"):
                callee = setting.removesuffix("_URL").lower()
                assert val == f"http://{callee}-api:{SERVICES[callee].port}"
                val = f"http://127.0.0.1:{self.api_ports[callee]}"
            env[key] = val
        env[f"{service.prefix}KAFKA_TOPIC_PREFIX"] = self.prefix
        return env

    def argv(self, service: Service, process: str) -> list[str]:
        (entrypoint,) = exec_form(parse_dockerfile(service.dockerfile)[-1].last("ENTRYPOINT"))
        args = list(self.services[f"{service.name}-{process}"]["command"])
        if "--port" in args:
            args[args.index("--port") + 1] = str(self.api_ports[service.name])
        if "--host" in args:
            args[args.index("--host") + 1] = "127.0.0.1"  # the image binds 0.0.0.0; a test machine need not
        return [str(Path(sys.executable).parent / entrypoint), *args]

    def run(self, service: Service, process: str) -> ServiceProcess:
        name = f"{service.name}-{process}"
        p = ServiceProcess(name, self.argv(service, process), self.env(service, process), self.workdir)
        self.processes[name] = p
        return p.start()

    def health_url(self, service: Service, process: str) -> str:
        """The compose health check's URL, on the local port."""
        test = " ".join(self.services[f"{service.name}-{process}"]["healthcheck"]["test"])
        url = test.split("urlopen('")[1].split("'")[0]
        port = self.api_ports[service.name] if process == "api" else self.metrics_ports[f"{service.name}-{process}"]
        return url.replace(url.split("/")[2], f"127.0.0.1:{port}")

    def close(self) -> None:
        for p in self.processes.values():
            p.stop()
        for database in self.databases.values():
            drop_database(database)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    d = Deployment(tmp_path_factory.mktemp("deployment"))
    try:
        migrations = [d.run(service, "migrate") for service in SERVICES.values()]
        for migrate in migrations:
            assert migrate.proc is not None and migrate.proc.wait(300) == 0, migrate.log_tail()
        for service in SERVICES.values():
            for process in service.processes:
                d.run(service, process)
        for service in SERVICES.values():
            for process in service.processes:
                wait_ready(d.health_url(service, process), d.processes[f"{service.name}-{process}"], 240)
        yield d
    finally:
        d.close()


@pytest.mark.parametrize("service", SERVICES.values(), ids=lambda s: s.name)
def test_api_answers_the_kubernetes_probes_and_serves_prometheus_metrics(
    deployment: Deployment, service: Service
) -> None:
    base = f"http://127.0.0.1:{deployment.api_ports[service.name]}"
    assert httpx.get(f"{base}/healthz").json()["service"] == service.package
    ready = httpx.get(f"{base}/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": True, "broker": True}
    metrics = scrape(f"{base}/prometheus")
    assert "territory_http_request_duration_seconds_count" in metrics
    assert (
        value(metrics, "territory_http_request_duration_seconds_count", service=service.package, route="/readyz") >= 1
    )
    assert "territory_outbox_pending_events" in metrics


@pytest.mark.parametrize(
    "service,process",
    [(s, p) for s in SERVICES.values() for p in s.processes[1:]],
    ids=lambda v: v.name if isinstance(v, Service) else v,
)
def test_relay_and_consumer_serve_prometheus_metrics_on_their_metrics_port(
    deployment: Deployment, service: Service, process: str
) -> None:
    metrics = scrape(deployment.health_url(service, process))
    if process == "relay":
        assert "territory_outbox_published_events_total" in metrics
        eventually(lambda: "territory_outbox_pending_events" in scrape(deployment.health_url(service, process)))
    else:
        assert value(metrics, "territory_consumer_events_processed_total", consumer=service.package) >= 0
        assert "territory_consumer_events_dead_lettered_total" in metrics


def test_an_edit_shows_in_latency_backlog_relay_consumer_and_lag_metrics(deployment: Deployment) -> None:
    geo = f"http://127.0.0.1:{deployment.api_ports['geo']}"
    tenant = auth_headers(f"t-{uuid.uuid4().hex[:8]}")
    created = httpx.post(f"{geo}/v1/territories", json={"code": "D1", "name": "Deploy"}, headers=tenant)
    assert created.status_code == 201, created.text
    assert httpx.get(f"{geo}/v1/territories/{created.json()['id']}", headers=tenant).status_code == 200

    api = scrape(f"{geo}/prometheus")
    assert value(api, "territory_http_request_duration_seconds_count", route="/v1/territories", status="201") == 1
    # Route templates, never raw ids: one series for every territory.
    assert value(api, "territory_http_request_duration_seconds_count", route="/v1/territories/{territory_id}") == 1

    relay = deployment.health_url(SERVICES["geo"], "relay")
    eventually(lambda: value(scrape(relay), "territory_outbox_published_events_total") >= 1, 90, 0.5)
    eventually(
        lambda: (
            value(scrape(f"{geo}/prometheus"), "territory_outbox_pending_events", service="geo-service") == 0 or None
        ),
        90,
        0.5,
    )
    consumer = deployment.health_url(SERVICES["metrics"], "consumer")
    eventually(
        lambda: value(scrape(consumer), "territory_consumer_events_processed_total", consumer="metrics-service") >= 1,
        90,
        0.5,
    )

    # Lag is read from the broker every REFRESH_S: one read made after the event was consumed must see the
    # geo.territory partitions, all drained to 0 (a read made before the event was published shows 0 too, which
    # proves nothing, so wait for a newer one). The read must ask the consumer's own group, prefix and all.
    time.sleep(REFRESH_S + 1.0)

    def geo_territory_lag_drained() -> bool:
        lag = scrape(consumer).get("territory_consumer_lag_events", [])
        per_partition = [v for labels, v in lag if labels["topic"] == "geo.territory"]
        return len(per_partition) == 6 and sum(per_partition) == 0

    eventually(geo_territory_lag_drained, 90, 0.5)
