"""Each service image's build stage, replayed without Docker: its COPY and `uv sync` steps in a scratch /app.

This proves the locked dependency layer installs from the manifests alone, that the code layer brings everything
the service imports, and that the migrations sit where the service looks for them.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy.manifests import ROOT, SERVICES, Service, env_of, parse_dockerfile


def replay_build_stage(service: Service, app: Path) -> Path:
    build = next(s for s in parse_dockerfile(service.dockerfile) if s.name == "build")
    env = {**os.environ, **env_of(build), "UV_PROJECT_ENVIRONMENT": str(app / ".venv")}
    env.pop("VIRTUAL_ENV", None)
    for keyword, value in build.instructions:
        if keyword == "COPY" and not value.startswith("--from"):
            *sources, dest = value.split()
            for source in sources:
                src = ROOT / source.rstrip("/")
                if src.is_dir():  # COPY dir/ dest/ copies the folder's contents into dest
                    ignore = shutil.ignore_patterns("__pycache__", "tests", ".venv", "data")
                    shutil.copytree(src, app / dest, dirs_exist_ok=True, ignore=ignore)
                elif dest.endswith("/"):
                    (app / dest).mkdir(parents=True, exist_ok=True)
                    shutil.copy2(src, app / dest / src.name)
                else:
                    shutil.copy2(src, app / dest)
        elif keyword == "RUN" and "uv sync" in value:
            command = shlex.split(re.sub(r"--mount=\S+", "", value))
            result = subprocess.run(command, cwd=app, env=env, capture_output=True, text=True, timeout=600)
            assert result.returncode == 0, result.stderr[-3000:]
    return app / ".venv"


@pytest.mark.parametrize("service", SERVICES.values(), ids=lambda s: s.name)
def test_image_build_stage_installs_a_service_that_starts(service: Service, tmp_path: Path) -> None:
    venv = replay_build_stage(service, tmp_path / "app")
    help_text = subprocess.run(
        [str(venv / "bin" / service.console_script), "--help"], capture_output=True, text=True, timeout=120
    )
    assert help_text.returncode == 0, help_text.stderr[-3000:]
    assert "{api,relay,consumer,migrate}" in help_text.stdout
    check = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            f"from {service.name}_service.api.app import MIGRATIONS as m; assert (m / 'env.py').is_file(), m",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stderr[-3000:]
