"""``/healthz`` (the process is alive) and ``/readyz`` (its database and, when distributed, its broker answer).

``/readyz`` also lists the services this one asks over HTTP. One that is down makes the service ``degraded``
(still 200: reads and writes that do not need it keep working, the others answer 503), not unready.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is alive")
async def healthz(request: Request) -> dict[str, str]:
    return {"status": "ok", "service": request.app.state.runtime.settings.service_name}


@router.get("/readyz", summary="The database and the broker are reachable")
async def readyz(request: Request) -> JSONResponse:
    runtime = request.app.state.runtime
    checks = {"database": await runtime.database_ready()}
    if runtime.settings.bus_kind == "kafka":
        checks["broker"] = await runtime.bus_ready()
    ready = all(checks.values())
    dependencies = {name: await answers() for name, answers in runtime.dependencies.items()}
    body = {
        "status": "not ready" if not ready else ("ready" if all(dependencies.values()) else "degraded"),
        "service": runtime.settings.service_name,
        "checks": checks,
    }
    if dependencies:
        body["dependencies"] = dependencies
    return JSONResponse(body, status_code=200 if ready else 503)
