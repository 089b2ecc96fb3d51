"""deploy/k8s: every overlay renders, passes `kubernetes-validate --strict`, and matches what the services serve."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.manifests import (
    OVERLAYS,
    ROOT,
    SERVICES,
    Service,
    container,
    declared_topics,
    documents,
    exec_form,
    find,
    parse_dockerfile,
    rendered,
)
from tests.deploy.test_images import settings_class

WORKLOADS = ("Deployment", "StatefulSet", "Job")


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    binary = Path(sys.executable).parent / "kubernetes-validate"
    return subprocess.run([str(binary), "--strict", "--quiet", str(path)], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_and_passes_strict_validation(overlay: str, tmp_path: Path) -> None:
    path = tmp_path / f"{overlay}.yaml"
    path.write_text(rendered(overlay))
    result = validate(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_strict_validation_rejects_an_unknown_field(tmp_path: Path) -> None:
    docs = documents("dev")
    deployment = find(docs, "Deployment", "geo-api")
    container(deployment)["readinessProbe"]["httpGet"]["paht"] = "/readyz"
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(deployment))
    assert validate(path).returncode != 0


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_has_requests_limits_and_runs_unprivileged(overlay: str) -> None:
    for doc in documents(overlay):
        if doc["kind"] not in WORKLOADS:
            continue
        pod = doc["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, doc["metadata"]["name"]
        for c in pod["containers"]:
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(c["resources"][kind]), (doc["metadata"]["name"], kind)
            assert c["securityContext"]["allowPrivilegeEscalation"] is False


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_secret_is_rendered_only_referenced(overlay: str) -> None:
    docs = documents(overlay)
    assert not [d for d in docs if d["kind"] == "Secret"]
    refs = set(re.findall(r"secretKeyRef:\s+key: \w+\s+name: ([\w-]+)", rendered(overlay)))
    assert refs == {f"{s}-service-database" for s in SERVICES}
    guide = (ROOT / "docs" / "operations.md").read_text()
    assert all(ref in guide for ref in refs)


def config_of(docs: list[dict[str, Any]], service: Service) -> dict[str, str]:
    (config,) = [
        d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith(f"{service.package}-config")
    ]
    return config["data"]


def probe(c: dict[str, Any], kind: str) -> tuple[str, int]:
    get = c[kind]["httpGet"]
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    return get["path"], ports.get(get["port"], get["port"])


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", SERVICES.values(), ids=lambda s: s.name)
def test_api_runs_the_image_command_and_probes_healthz_and_readyz_on_its_port(overlay: str, service: Service) -> None:
    docs = documents(overlay)
    api = find(docs, "Deployment", f"{service.name}-api")
    c = container(api)
    assert c["args"] == exec_form(parse_dockerfile(service.dockerfile)[-1].last("CMD"))
    assert [p["containerPort"] for p in c["ports"]] == [service.port]
    assert probe(c, "readinessProbe") == ("/readyz", service.port)
    assert probe(c, "livenessProbe") == ("/healthz", service.port)
    assert probe(c, "startupProbe") == ("/healthz", service.port)
    annotations = api["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/path"] == "/prometheus"
    assert annotations["prometheus.io/port"] == str(service.port)
    svc = find(docs, "Service", f"{service.name}-api")
    assert [(p["port"], p["targetPort"]) for p in svc["spec"]["ports"]] == [(service.port, "http")]
    assert svc["spec"]["selector"] == api["spec"]["selector"]["matchLabels"]
    hpa = find(docs, "HorizontalPodAutoscaler", f"{service.name}-api")
    assert hpa["spec"]["scaleTargetRef"]["name"] == f"{service.name}-api"
    assert hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    pdb = find(docs, "PodDisruptionBudget", f"{service.name}-api")
    assert pdb["spec"]["selector"]["matchLabels"] == api["spec"]["selector"]["matchLabels"]


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", SERVICES.values(), ids=lambda s: s.name)
def test_one_relay_consumers_within_partitions_and_a_migration_job(overlay: str, service: Service) -> None:
    docs = documents(overlay)
    config = config_of(docs, service)
    partitions = min(p for p, _ in declared_topics().values() if p > 1)
    for process in service.processes[1:]:
        workload = find(docs, "Deployment", f"{service.name}-{process}")
        c = container(workload)
        assert c["args"] == [process]
        assert probe(c, "livenessProbe") == ("/prometheus", int(config[f"{service.prefix}METRICS_PORT"]))
        if process == "relay":
            assert workload["spec"]["replicas"] == 1
        else:
            assert 1 <= workload["spec"]["replicas"] <= partitions
    job = find(docs, "Job", f"{service.name}-migrate")
    assert container(job)["args"] == ["migrate"]
    assert {
        d["metadata"]["name"]
        for d in docs
        if d["kind"] == "Deployment" and d["metadata"]["name"].startswith(f"{service.name}-")
    } == {f"{service.name}-{p}" for p in service.processes}


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", SERVICES.values(), ids=lambda s: s.name)
def test_config_names_real_settings_and_the_services_it_calls(overlay: str, service: Service) -> None:
    config = config_of(documents(overlay), service)
    fields = settings_class(service).model_fields
    for key in config:
        if key != "TERRITORY_CACHE_DIR":
            assert key.startswith(service.prefix) and key.removeprefix(service.prefix).lower() in fields, key
    for callee in service.calls:
        assert config[f"{service.prefix}{callee.upper()}_URL"] == f"http://{callee}-api:{SERVICES[callee].port}"
    assert int(config[f"{service.prefix}KAFKA_TOPIC_PARTITIONS"]) == max(p for p, _ in declared_topics().values())


def peers(policy: dict[str, Any]) -> set[str]:
    """What an egress policy lets its pods reach, named: `kafka`, `<x>-db`, `<x>-api`, `ipBlock`, `ns:<name>`."""
    out: set[str] = set()
    for rule in policy["spec"].get("egress", []):
        for peer in rule["to"]:
            if "ipBlock" in peer:
                out.add("ipBlock")
            elif "namespaceSelector" in peer:
                out.add("ns:" + peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"])
            else:
                labels = peer["podSelector"]["matchLabels"]
                name = labels["app.kubernetes.io/name"]
                out.add(f"{name.removesuffix('-service')}-api" if labels.get("app.kubernetes.io/component") else name)
    return out


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", SERVICES.values(), ids=lambda s: s.name)
def test_network_policy_lets_a_service_reach_only_its_database_kafka_and_its_callees(
    overlay: str, service: Service
) -> None:
    docs = documents(overlay)
    assert find(docs, "NetworkPolicy", "default-deny")["spec"]["podSelector"] == {}
    policy = find(docs, "NetworkPolicy", f"{service.package}-egress")
    callees = {f"{c}-api" for c in service.calls}
    if overlay == "dev":
        assert peers(policy) == {f"{service.name}-db", "kafka", *callees}
        db = find(docs, "NetworkPolicy", f"{service.name}-db")
        sources = [p["podSelector"]["matchLabels"] for r in db["spec"]["ingress"] for p in r["from"]]
        assert sources == [{"app.kubernetes.io/name": service.package}]
    else:
        assert peers(policy) == {"ipBlock", "ns:kafka", *callees}
    # Every other egress policy that selects this service's pods only adds the assignment relay's webhooks.
    for doc in docs:
        if doc["kind"] != "NetworkPolicy" or doc is policy or "Egress" not in doc["spec"]["policyTypes"]:
            continue
        selected = doc["spec"]["podSelector"].get("matchLabels", {})
        if selected.get("app.kubernetes.io/name") == service.package:
            assert doc["metadata"]["name"] == "assignment-service-webhooks"
            assert selected["app.kubernetes.io/component"] == "relay"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_ingress_serves_the_web_map_which_proxies_the_apis(overlay: str) -> None:
    docs = documents(overlay)
    (ingress,) = [d for d in docs if d["kind"] == "Ingress"]
    (path,) = ingress["spec"]["rules"][0]["http"]["paths"]
    assert path["path"] == "/" and path["backend"]["service"]["name"] == "web"
    web = container(find(docs, "Deployment", "web"))
    assert [p["containerPort"] for p in web["ports"]] == [8080]
    assert probe(web, "readinessProbe") == ("/healthz", 8080)
    env = {e["name"]: e["value"] for e in web["env"]}
    assert env == {f"{s.upper()}_API": f"http://{s}-api:{SERVICES[s].port}" for s in SERVICES}
    assert set(peers(find(docs, "NetworkPolicy", "web"))) == {f"{s}-api" for s in SERVICES}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_topic_job_creates_the_declared_topics_from_the_same_files_compose_mounts(overlay: str) -> None:
    docs = documents(overlay)
    job = find(docs, "Job", "kafka-topics")
    assert container(job)["command"] == ["sh", "/topics/create-topics.sh"]
    (files,) = [
        d
        for d in docs
        if d["kind"] == "ConfigMap"
        and d["metadata"]["name"].startswith("kafka-topics-")
        and "topics.conf" in d.get("data", {})
    ]
    kafka = ROOT / "deploy" / "k8s" / "base" / "kafka"
    assert files["data"]["topics.conf"] == (kafka / "topics.conf").read_text()
    assert files["data"]["create-topics.sh"] == (kafka / "create-topics.sh").read_text()
