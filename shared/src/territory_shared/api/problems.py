"""RFC 9457 problem details for every error a service returns, and one exception -> status table."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from territory_shared.errors import (
    BadRequest,
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    MalformedRequest,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    ServiceUnavailable,
    Unauthorized,
)

# The errors are defined in territory_shared.errors, free of the web framework, for domain code and use cases;
# routes import them from here as well, next to the rendering.
__all__ = [
    "BadRequest",
    "Conflict",
    "DomainError",
    "Forbidden",
    "InvalidInput",
    "MalformedRequest",
    "NotFound",
    "PreconditionFailed",
    "PreconditionRequired",
    "ServiceUnavailable",
    "Unauthorized",
    "PROBLEM_JSON",
    "RETRY_AFTER_S",
    "STATUS_BY_ERROR",
    "install_problem_handlers",
    "problem",
]

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)


STATUS_BY_ERROR: dict[type[DomainError], int] = {
    MalformedRequest: 400,
    InvalidInput: 422,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    PreconditionFailed: 412,
    PreconditionRequired: 428,
    ServiceUnavailable: 503,
}
RETRY_AFTER_S = "2"


def problem(status: int, title: str, detail: str, request: Request, **extensions: Any) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extensions,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    # ('body', 'name') -> 'name'; ('header', 'x-tenant-id') -> 'x-tenant-id'
    parts = [str(p) for p in loc]
    return ".".join(parts[1:]) if len(parts) > 1 else (parts[0] if parts else "")


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        status = next((s for cls, s in STATUS_BY_ERROR.items() if isinstance(exc, cls)), 400)
        response = problem(status, exc.title, exc.detail, request, **exc.extensions)
        response.headers.update(getattr(exc, "headers", None) or {})
        if status == 503:
            response.headers["Retry-After"] = RETRY_AFTER_S
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": _field(e.get("loc", ())),
                "location": str(e.get("loc", ("",))[0]),
                "reason": e.get("msg", ""),
            }
            for e in exc.errors()
        ]
        invalid_json = [e for e in exc.errors() if e.get("type") == "json_invalid"]
        if invalid_json:
            reason = invalid_json[0].get("ctx", {}).get("error", "invalid JSON")
            position = invalid_json[0].get("loc", ("body", "?"))[-1]
            return problem(
                400,
                "Malformed JSON",
                f"The request body is not valid JSON: {reason} (at character {position})",
                request,
                errors=[{"field": "body", "location": "body", "reason": reason}],
            )
        detail = "; ".join(f"{e['field'] or e['location']}: {e['reason']}" for e in errors)
        return problem(422, "Invalid request", detail, request, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "HTTP error")
        return problem(exc.status_code, title, str(exc.detail), request)
