"""The errors that domain code and use cases raise, free of any web framework.

Each says what went wrong in the product's terms; ``api/problems.py`` gives each its HTTP status and renders it
as problem+json, so the same error reads the same whichever route raised it.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of errors that use cases raise; ``STATUS_BY_ERROR`` in ``api/problems.py`` gives each its HTTP status."""

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
