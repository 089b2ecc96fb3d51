"""``geo-service api|relay|consumer|migrate``: the processes of geo-service in the distributed mode."""

from __future__ import annotations

from territory_shared.cli import service_main

from geo_service.api.app import build_runtime, create_app
from geo_service.settings import GeoSettings


def main(argv: list[str] | None = None) -> None:
    service_main("geo-service", GeoSettings, create_app, build_runtime, default_port=8001, argv=argv)


if __name__ == "__main__":
    main()
