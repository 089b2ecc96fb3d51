"""docs/operations.md stays true: its configuration table is generated, and it names every metric we export."""

from __future__ import annotations

from prometheus_client.metrics import MetricWrapperBase
from territory_shared import observability, process_metrics
from territory_shared.settings_doc import main as settings_doc

from tests.deploy.manifests import ROOT


def test_configuration_reference_is_generated_from_the_current_settings() -> None:
    assert settings_doc(["--check"]) == 0, "run: uv run python -m territory_shared.settings_doc"


def test_operators_guide_lists_every_exported_metric() -> None:
    guide = (ROOT / "docs" / "operations.md").read_text()
    modules = (observability, process_metrics)
    metrics = {id(m): m for mod in modules for m in vars(mod).values() if isinstance(m, MetricWrapperBase)}.values()
    assert len(metrics) >= 8
    for metric in metrics:
        name = metric._name + ("_total" if metric._type == "counter" else "")
        assert f"`{name}`" in guide, name
    assert f"GET {observability.PROMETHEUS_PATH}" in guide
