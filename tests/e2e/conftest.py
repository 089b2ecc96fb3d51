from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.platforms import DistributedPlatform, EmbeddedPlatform, Platform


@pytest.fixture(scope="module", params=["kafka", "embedded"])
def platform(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    workdir = tmp_path_factory.mktemp(f"platform-{request.param}")
    p = DistributedPlatform(workdir) if request.param == "kafka" else EmbeddedPlatform(workdir)
    try:
        p.start()
        yield p
    finally:
        p.close()
