"""``assignment-service api|relay|consumer|migrate``: the processes of assignment-service in the distributed mode."""

from __future__ import annotations

from territory_shared.cli import service_main

from assignment_service.api.app import build_runtime, create_app
from assignment_service.settings import AssignmentSettings


def main(argv: list[str] | None = None) -> None:
    service_main("assignment-service", AssignmentSettings, create_app, build_runtime, default_port=8002, argv=argv)


if __name__ == "__main__":
    main()
