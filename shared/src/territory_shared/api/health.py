"""``/healthz`` (the process is alive) and ``/readyz`` (its database and, when distributed, its broker answer)."""

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
    return JSONResponse(
        {
            "status": "ready" if ready else "not ready",
            "service": runtime.settings.service_name,
            "checks": checks,
        },
        status_code=200 if ready else 503,
    )
