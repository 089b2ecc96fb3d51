"""RFC 9457 problem details for every error a service returns, and one exception -> status table."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)


class DomainError(Exception):
    """Base of errors that use cases raise; the table below gives each its HTTP status."""

    title = "Request cannot be processed"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class NotFound(DomainError):
    title = "Not found"


class Conflict(DomainError):
    title = "Conflict"


class PreconditionFailed(DomainError):
    title = "Precondition failed"


class PreconditionRequired(DomainError):
    title = "Precondition required"


class InvalidInput(DomainError):
    """A well-formed request with a value that is wrong: 422, like FastAPI's own body validation.

    ``field`` names the input (a dotted path such as ``rules.3.geography``); unless ``errors`` is given, the
    problem gets the one-entry ``errors`` list every validation problem carries, so a client reads one shape.
    """

    title = "Invalid request"

    def __init__(self, detail: str, **extensions: Any) -> None:
        if "errors" not in extensions and "field" in extensions:
            extensions["errors"] = [{"field": extensions["field"], "reason": detail}]
        super().__init__(detail, **extensions)


class BadRequest(InvalidInput):
    """The name ``InvalidInput`` had when it answered 400; kept so its many raise sites need not change."""


class MalformedRequest(DomainError):
    """The request cannot even be read (a body that is not valid JSON): 400, not a validation error.

    RFC 9110 keeps 400 for malformed syntax: what is wrong is the body as a whole, not a value in it, so it stays
    apart from ``InvalidInput`` (the same split as the handler below makes for FastAPI's ``json_invalid``).
    """

    title = "Malformed request"


class Unauthorized(DomainError):
    title = "Unauthorized"

    def __init__(self, detail: str, error: str = "invalid_token") -> None:
        super().__init__(detail)
        # RFC 6750: a 401 names the scheme to use, and why the credentials given were not enough.
        self.headers = {"WWW-Authenticate": f'Bearer realm="territory", error="{error}"'}


class Forbidden(DomainError):
    title = "Forbidden"


class ServiceUnavailable(DomainError):
    """A dependency (another service, the database) cannot answer now; the caller may retry later."""

    title = "Service unavailable"
    retryable = True


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
