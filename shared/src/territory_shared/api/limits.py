"""Limits on what one request may cost: the size of its body and how long its database statements may run.

Bodies are counted while they stream in, so a request over its limit is refused (413) without being held in
memory, whether it declares a ``Content-Length`` or is sent chunked. JSON endpoints get ``max_body_bytes``;
the upload and bulk endpoints (layer files, account bulk upserts, bulk lookups) say so with
``openapi_extra=UPLOAD_BODY`` and get ``max_upload_bytes``.

Database statements of a request run under ``statement_timeout_s`` (PostgreSQL); background work (jobs, relays,
consumers) under the longer ``job_statement_timeout_s``, the engine's default.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from territory_shared.api.problems import problem
from territory_shared.db.timeouts import statement_timeout
from territory_shared.settings import ServiceSettings

UPLOAD_BODY: dict[str, Any] = {"x-body-limit": "upload"}
"""``openapi_extra`` of an endpoint that takes files or bulk rows: it gets the larger body limit."""

MAX_OFFSET = 1_000_000_000
"""The largest ``offset`` a paged endpoint accepts (beyond any real data; keeps it within a 64-bit integer)."""


class _BodyTooLarge(Exception):
    pass


def _settings(scope: Scope) -> ServiceSettings:
    runtime = getattr(getattr(scope.get("app"), "state", None), "runtime", None)
    return runtime.settings if runtime is not None else ServiceSettings()


def _is_upload(scope: Scope) -> bool:
    # Known once routing has happened, which is before an endpoint reads its body.
    extra = getattr(scope.get("route"), "openapi_extra", None) or {}
    return extra.get("x-body-limit") == "upload"


def _size(n: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= factor and n % factor == 0:
            return f"{n // factor} {unit}"
    return f"{n:,} bytes"


class RequestLimitsMiddleware:
    """Refuses a body over its limit with a 413 problem and runs the request under the API statement timeout."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = _settings(scope)
        declared = _content_length(scope)
        received = 0
        exceeded: int | None = None
        started = False

        def limit() -> int:
            return settings.max_upload_bytes if _is_upload(scope) else settings.max_body_bytes

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            if declared is not None and declared > limit():
                exceeded = limit()
                raise _BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit():
                    exceeded = limit()
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded is not None and not started:
                # The endpoint turned the refused read into an error of its own (e.g. "invalid body"): the
                # client must learn the real reason instead.
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        if declared is not None and declared > settings.max_upload_bytes:
            await _too_large(scope, receive, send, settings.max_upload_bytes)
            return
        with statement_timeout(settings.statement_timeout_s):
            try:
                await self.app(scope, limited_receive, guarded_send)
            except Exception:
                if exceeded is None or started:
                    raise
        if exceeded is not None and not started:
            await _too_large(scope, receive, send, exceeded)


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    reason = f"larger than the limit of {_size(limit)}"
    response = problem(
        413,
        "Request body too large",
        f"The request body is {reason} for this endpoint; send less per request.",
        Request(scope),
        errors=[{"field": "body", "location": "body", "reason": reason}],
        max_bytes=limit,
    )
    await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
