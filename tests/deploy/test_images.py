"""Each image runs what the service really is: its console script, its port, its settings, its locked dependencies."""

from __future__ import annotations

import fnmatch
import importlib
import json
import re
import tomllib

import pytest

from tests.deploy.manifests import ROOT, SERVICES, Service, env_of, exec_form, parse_dockerfile

SETTINGS = {
    "geo": ("geo_service.settings", "GeoSettings"),
    "assignment": ("assignment_service.settings", "AssignmentSettings"),
    "metrics": ("metrics_service.settings", "MetricsSettings"),
}


def settings_class(service: Service) -> type:
    module, name = SETTINGS[service.name]
    return getattr(importlib.import_module(module), name)


def workspace_members() -> list[str]:
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]["workspace"]["members"]
    return sorted(str(p.parent.relative_to(ROOT)) for g in globs for p in ROOT.glob(f"{g}/pyproject.toml"))


def workspace_dependencies(member: str) -> set[str]:
    """The workspace members a member needs (transitively), as paths."""
    by_name = {
        tomllib.loads((ROOT / m / "pyproject.toml").read_text())["project"]["name"]: m for m in workspace_members()
    }
    seen: set[str] = set()
    todo = [member]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        sources = tomllib.loads((ROOT / current / "pyproject.toml").read_text()).get("tool", {}).get("uv", {})
        todo += [by_name[n] for n, s in sources.get("sources", {}).items() if s.get("workspace")]
    return seen


@pytest.mark.parametrize("service", SERVICES.values(), ids=lambda s: s.name)
def test_service_image_runs_the_api_by_default_on_the_port_the_cli_uses(service: Service) -> None:
    final = parse_dockerfile(service.dockerfile)[-1]
    assert exec_form(final.last("ENTRYPOINT")) == [service.console_script]
    assert exec_form(final.last("CMD")) == ["api", "--host", "0.0.0.0", "--port", str(service.port)]
    cli = (ROOT / "services" / service.package / "src" / f"{service.name}_service" / "cli.py").read_text()
    assert f"default_port={service.port}" in cli
    exposed = {int(p) for value in final.all("EXPOSE") for p in value.split()}
    assert exposed == {service.port, 9100}


@pytest.mark.parametrize("service", SERVICES.values(), ids=lambda s: s.name)
def test_service_image_runs_as_a_non_root_user(service: Service) -> None:
    user = parse_dockerfile(service.dockerfile)[-1].last("USER")
    assert user is not None and user.split(":")[0] not in ("root", "0")


@pytest.mark.parametrize("service", SERVICES.values(), ids=lambda s: s.name)
def test_service_image_installs_the_locked_dependencies_in_a_layer_before_the_code(service: Service) -> None:
    build = next(s for s in parse_dockerfile(service.dockerfile) if s.name == "build")
    steps = build.instructions
    syncs = [i for i, (k, v) in enumerate(steps) if k == "RUN" and "uv sync" in v]
    assert len(syncs) == 2
    first, second = (steps[i][1] for i in syncs)
    for command in (first, second):
        assert "--frozen" in command and "--no-dev" in command and f"--package {service.package}" in command
    assert "--no-install-workspace" in first
    copies_before = [v for k, v in steps[: syncs[0]] if k == "COPY" and not v.startswith("--from")]
    copies_between = [v for k, v in steps[syncs[0] : syncs[1]] if k == "COPY"]
    manifests = {source for c in copies_before for source in c.split()[:-1]}
    assert all(m.endswith(("pyproject.toml", "uv.lock")) for m in manifests)
    # uv needs every workspace member's manifest to read the workspace, even those it does not install.
    assert {"pyproject.toml", "uv.lock"} <= manifests
    assert {f"{m}/pyproject.toml" for m in workspace_members()} <= manifests
    sources = {c.split()[0].rstrip("/") for c in copies_between}
    assert workspace_dependencies(f"services/{service.package}") <= sources


@pytest.mark.parametrize("service", SERVICES.values(), ids=lambda s: s.name)
def test_service_image_environment_names_real_settings(service: Service) -> None:
    env = env_of(parse_dockerfile(service.dockerfile)[-1])
    fields = settings_class(service).model_fields
    for key in env:
        if key.startswith(service.prefix):
            assert key.removeprefix(service.prefix).lower() in fields, key
    assert env[f"{service.prefix}BUS_KIND"] == "kafka"
    assert env[f"{service.prefix}METRICS_PORT"] == "9100"


@pytest.mark.parametrize("service", SERVICES.values(), ids=lambda s: s.name)
def test_processes_and_calls_match_the_service_code(service: Service, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = importlib.import_module(f"{service.name}_service.api.app")
    settings = settings_class(service)(database_url=f"sqlite+aiosqlite:///{tmp_path}/x.sqlite")
    runtime = app.build_runtime(settings)
    assert ("consumer" in service.processes) == bool(runtime.handlers)
    calls = {f.removesuffix("_url") for f in settings_class(service).model_fields if f.endswith("_url")} - {"database"}
    assert calls == set(service.calls)


def test_web_image_is_a_static_build_served_by_unprivileged_nginx() -> None:
    stages = parse_dockerfile(ROOT / "deploy" / "web" / "Dockerfile")
    build, final = stages[0], stages[-1]
    runs = " && ".join(build.all("RUN"))
    assert "npm ci" in runs and "npm run build" in runs
    assert "build" in json.loads((ROOT / "web" / "package.json").read_text())["scripts"]
    assert final.last("USER") not in (None, "root", "0")
    assert final.last("EXPOSE") == "8080"
    template = (ROOT / "deploy" / "web" / "default.conf.template").read_text()
    assert "listen 8080;" in template and "location = /healthz" in template
    for service in SERVICES.values():
        # The trailing slash strips the prefix: /geo/v1/... reaches geo-service as /v1/...
        assert re.search(rf"location /{service.name}/\s*{{ proxy_pass \${{{service.name.upper()}_API}}/; }}", template)
        assert env_of(final)[f"{service.name.upper()}_API"] == f"http://{service.name}-api:{service.port}"


def test_dockerignore_keeps_what_the_images_copy_and_drops_local_state() -> None:
    patterns = [
        p.strip() for p in (ROOT / ".dockerignore").read_text().splitlines() if p.strip() and not p.startswith("#")
    ]
    assert {".git", ".venv", "web/node_modules"} <= set(patterns)
    dockerfiles = [s.dockerfile for s in SERVICES.values()] + [ROOT / "deploy" / "web" / "Dockerfile"]
    for dockerfile in dockerfiles:
        for stage in parse_dockerfile(dockerfile):
            for copy in stage.all("COPY"):
                if copy.startswith("--from"):
                    continue
                for source in copy.split()[:-1]:
                    source = source.rstrip("/")
                    assert not any(ignored(source, p) for p in patterns), (dockerfile, source)


def ignored(path: str, pattern: str) -> bool:
    if pattern.startswith("!"):
        return False
    if pattern.startswith("**/"):
        rest = pattern[3:]
        return fnmatch.fnmatch(path, rest) or fnmatch.fnmatch(path, f"*/{rest}")
    return fnmatch.fnmatch(path, pattern)
