"""docker-compose.yml: valid for `docker compose config`, no secret in it, health checks and start order."""

from __future__ import annotations

import re
import shlex

import pytest
from territory_shared.settings import AuthSettings

from tests.deploy.manifests import PASSWORD_SENTINEL, ROOT, SERVICES, Service, compose, compose_config, exec_form
from tests.deploy.manifests import parse_dockerfile as dockerfile
from tests.deploy.test_images import settings_class

ONE_SHOT = {"kafka-topics", *(f"{s}-migrate" for s in SERVICES)}


def test_compose_file_is_valid_for_docker_compose_config() -> None:
    result = compose_config({"POSTGRES_PASSWORD": PASSWORD_SENTINEL}, "--quiet")
    assert result.returncode == 0, result.stderr


def test_compose_refuses_to_start_without_the_database_password() -> None:
    result = compose_config({}, "--quiet")
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr


def test_compose_file_holds_no_secret() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    for line in text.splitlines():
        if re.search(r"(?i)password", line) and not line.lstrip().startswith("#"):
            # Every password is interpolated from the environment and required: ${POSTGRES_PASSWORD:?...}
            assert "${POSTGRES_PASSWORD:?" in line, line
    assert PASSWORD_SENTINEL not in text


def test_compose_runs_the_official_postgis_and_kafka_in_kraft_mode() -> None:
    services = compose()["services"]
    assert services["postgis"]["image"].startswith("postgis/postgis:")
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert "controller" in kafka["environment"]["KAFKA_PROCESS_ROLES"]
    assert not any("ZOOKEEPER" in k for k in kafka["environment"])


def test_every_long_running_process_has_a_health_check_and_one_shots_do_not_restart() -> None:
    for name, service in compose()["services"].items():
        if name in ONE_SHOT:
            assert service.get("restart") == "no", name
        else:
            assert service.get("healthcheck", {}).get("test"), name


@pytest.mark.parametrize("service", SERVICES.values(), ids=lambda s: s.name)
def test_compose_runs_each_process_of_the_service_from_its_image(service: Service) -> None:
    services = compose()["services"]
    names = {n for n in services if n.startswith(f"{service.name}-")}
    assert names == {f"{service.name}-{p}" for p in (*service.processes, "migrate")}
    image = services[f"{service.name}-migrate"]["image"]
    assert services[f"{service.name}-migrate"]["build"]["dockerfile"] == f"services/{service.package}/Dockerfile"
    final = dockerfile(service.dockerfile)[-1]
    for process in (*service.processes, "migrate"):
        spec = services[f"{service.name}-{process}"]
        assert spec["image"] == image
        if process == "api":
            assert spec["command"] == exec_form(final.last("CMD"))
        else:
            assert spec["command"] == [process]


@pytest.mark.parametrize("service", SERVICES.values(), ids=lambda s: s.name)
def test_compose_health_checks_probe_what_each_process_serves(service: Service) -> None:
    services = compose()["services"]
    api = services[f"{service.name}-api"]
    assert f"http://127.0.0.1:{service.port}/readyz" in " ".join(api["healthcheck"]["test"])
    for process in service.processes[1:]:
        spec = services[f"{service.name}-{process}"]
        port = spec["environment"][f"{service.prefix}METRICS_PORT"]
        assert f"http://127.0.0.1:{port}/prometheus" in " ".join(spec["healthcheck"]["test"])


@pytest.mark.parametrize("service", SERVICES.values(), ids=lambda s: s.name)
def test_compose_starts_each_process_after_its_schema_topics_and_the_services_it_calls(service: Service) -> None:
    services = compose()["services"]
    migrate = services[f"{service.name}-migrate"]["depends_on"]
    assert migrate["postgis"]["condition"] == "service_healthy"
    assert services["kafka-topics"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    for process in service.processes:
        depends = services[f"{service.name}-{process}"]["depends_on"]
        assert depends[f"{service.name}-migrate"]["condition"] == "service_completed_successfully"
        assert depends["kafka-topics"]["condition"] == "service_completed_successfully"
    for process in ("api", "consumer"):
        if process in service.processes:
            depends = services[f"{service.name}-{process}"]["depends_on"]
            for callee in service.calls:
                if process == "api" or callee == "geo":
                    assert depends[f"{callee}-api"]["condition"] == "service_healthy"


@pytest.mark.parametrize("service", SERVICES.values(), ids=lambda s: s.name)
def test_compose_environment_names_real_settings_and_the_right_addresses(service: Service) -> None:
    fields = settings_class(service).model_fields
    for process in (*service.processes, "migrate"):
        env = compose()["services"][f"{service.name}-{process}"]["environment"]
        for key in env:
            if key.startswith("AUTH_"):  # authentication is one trust domain: unprefixed, shared by all services
                assert key.removeprefix("AUTH_").lower() in AuthSettings.model_fields, key
                continue
            assert key.startswith(service.prefix) and key.removeprefix(service.prefix).lower() in fields, key
        assert env[f"{service.prefix}DATABASE_URL"].startswith("postgresql+asyncpg://territory:" + PASSWORD_SENTINEL)
        assert env[f"{service.prefix}DATABASE_URL"].endswith(f"@postgis:5432/territory_{service.name}")
        assert env[f"{service.prefix}KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        for callee in service.calls:
            assert env[f"{service.prefix}{callee.upper()}_URL"] == f"http://{callee}-api:{SERVICES[callee].port}"


def test_compose_creates_one_database_per_service() -> None:
    init = (ROOT / "deploy" / "compose" / "postgres-init.sql").read_text()
    assert sorted(re.findall(r"CREATE DATABASE (\w+);", init)) == sorted(f"territory_{s}" for s in SERVICES)


def test_web_map_waits_for_the_apis_and_is_the_only_published_port() -> None:
    services = compose()["services"]
    web = services["web"]
    assert web["build"]["dockerfile"] == "deploy/web/Dockerfile"
    assert {f"{s}-api" for s in SERVICES} <= set(web["depends_on"])
    assert [p["target"] for p in web["ports"]] == [8080]
    assert all(not spec.get("ports") for name, spec in services.items() if name != "web")
    assert "/healthz" in shlex.join(web["healthcheck"]["test"])
