"""``metrics-service api|relay|consumer|migrate``: the processes of metrics-service in the distributed mode."""

from __future__ import annotations

from territory_shared.cli import service_main

from metrics_service.api.app import build_runtime, create_app
from metrics_service.settings import MetricsSettings


def main(argv: list[str] | None = None) -> None:
    service_main("metrics-service", MetricsSettings, create_app, build_runtime, default_port=8003, argv=argv)


if __name__ == "__main__":
    main()
