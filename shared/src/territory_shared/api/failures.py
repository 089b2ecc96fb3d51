"""Failures the client did not cause, answered as problem+json that never carries a stack trace or SQL.

- a database statement cancelled by ``statement_timeout``: 503, retry later or ask for less;
- the database unreachable or restarting, or two transactions colliding (deadlock, serialization): 503 with
  ``Retry-After``; the transaction rolled back, so nothing of the request was applied;
- a constraint violated by a concurrent change: 409;
- anything else: a generic 500 naming only the correlation id; the traceback goes to the log with that id.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from territory_shared.api.problems import RETRY_AFTER_S, problem
from territory_shared.db.errors import is_collision, is_database_unavailable
from territory_shared.db.timeouts import QUERY_CANCELED
from territory_shared.logs import correlation_id

log = logging.getLogger("territory_shared.api.errors")


def _sqlstate(exc: DBAPIError) -> str | None:
    orig = exc.orig
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)


def install_failure_handlers(app: FastAPI) -> None:
    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        cid = correlation_id.get()
        if _sqlstate(exc) == QUERY_CANCELED:
            log.warning("statement timeout on %s %s", request.method, request.url.path)
            settings = getattr(getattr(request.app.state, "runtime", None), "settings", None)
            limit = f" of {settings.statement_timeout_s:g} s" if settings is not None else ""
            return _retry_later(
                problem(
                    503,
                    "Query took too long",
                    f"The database did not answer within the statement timeout{limit}; narrow the request "
                    "(filters, a smaller page) or retry later.",
                    request,
                    correlation_id=cid,
                )
            )
        if is_collision(exc):
            log.warning("concurrent change on %s %s: %s", request.method, request.url.path, type(exc).__name__)
            return _retry_later(
                problem(
                    503,
                    "Concurrent change",
                    "The change collided with a concurrent one and was not applied; retry later.",
                    request,
                    correlation_id=cid,
                )
            )
        if isinstance(exc, IntegrityError):
            log.warning("integrity error on %s %s: %s", request.method, request.url.path, exc.orig)
            return problem(
                409,
                "Conflict",
                "The change conflicts with existing data (a duplicate, or a reference that no longer holds); "
                "read the resource again and retry.",
                request,
                correlation_id=cid,
            )
        if (
            isinstance(exc, OperationalError | InterfaceError)
            or exc.connection_invalidated
            or is_database_unavailable(exc)
        ):
            log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc.orig)
            return _retry_later(
                problem(
                    503,
                    "Database unavailable",
                    "The database could not serve the request; retry later.",
                    request,
                    correlation_id=cid,
                )
            )
        log.error("database error on %s %s", request.method, request.url.path, exc_info=exc)
        return internal_error(request)

    @app.exception_handler(OSError)
    async def _connection(request: Request, exc: OSError) -> JSONResponse:
        # A connection the driver could not open (the database restarting) surfaces as a bare OSError.
        if not is_database_unavailable(exc):
            log.error("error on %s %s", request.method, request.url.path, exc_info=exc)
            return internal_error(request)
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return _retry_later(
            problem(
                503,
                "Database unavailable",
                "The database could not serve the request; retry later.",
                request,
                correlation_id=correlation_id.get(),
            )
        )


def _retry_later(response: JSONResponse) -> JSONResponse:
    response.headers["Retry-After"] = RETRY_AFTER_S
    return response


def internal_error(request: Request) -> JSONResponse:
    cid = correlation_id.get()
    return problem(
        500,
        "Internal server error",
        f"The service failed to handle the request; quote correlation id {cid} when you report it.",
        request,
        correlation_id=cid,
    )


class InternalErrorMiddleware:
    """Turns an unhandled exception into a generic 500 problem (inside the correlation id's middleware)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def _send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, _send)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            await internal_error(Request(scope))(scope, receive, send)
