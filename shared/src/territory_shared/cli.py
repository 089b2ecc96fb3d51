"""The command line every service shares: ``<service> api|relay|consumer|migrate``."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from typing import Any

import uvicorn
from fastapi import FastAPI

from territory_shared.logs import configure_logging
from territory_shared.runtime import ServiceRuntime
from territory_shared.settings import ServiceSettings
from territory_shared.workers import run_consumer, run_relay


def serve_api(app: FastAPI, host: str, port: int) -> None:
    # log_config=None keeps our JSON logging; the access log comes from CorrelationIdMiddleware.
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)


def service_main(
    prog: str,
    settings_class: Callable[[], ServiceSettings],
    create_app: Callable[[Any], FastAPI],
    build_runtime: Callable[[Any], ServiceRuntime],
    default_port: int,
    argv: list[str] | None = None,
) -> None:
    parser = argparse.ArgumentParser(prog=prog, description=f"Run one process of {prog} (distributed mode).")
    parser.add_argument("process", choices=["api", "relay", "consumer", "migrate"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=default_port)
    args = parser.parse_args(argv)
    settings = settings_class()
    configure_logging(f"{settings.service_name}-{args.process}", settings.log_level, settings.log_json)
    if args.process == "api":
        serve_api(create_app(settings), args.host, args.port)
    elif args.process == "relay":
        asyncio.run(run_relay(build_runtime(settings)))
    elif args.process == "consumer":
        asyncio.run(run_consumer(build_runtime(settings)))
    else:
        asyncio.run(build_runtime(settings).migrate())
