"""Which database errors are passing (the server restarts, a connection drops, two transactions collide).

A passing error is worth retrying: an API answers it with 503 and ``Retry-After`` instead of a 500, and the
inbox consumer gives the batch back to the bus instead of counting it against a handler and dead-lettering
an event that did nothing wrong.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

# SQLSTATE classes and codes: 08 connection exception, 57P01-57P03 the server is shutting down or starting,
# 53300 too many connections, 40001 serialization failure, 40P01 deadlock.
_CONNECTION_STATES = ("08", "57P01", "57P02", "57P03", "53300")
COLLISION_STATES = ("40001", "40P01")


def _sqlstate(exc: BaseException) -> str:
    for e in _chain(exc):
        state = getattr(e, "sqlstate", None) or getattr(e, "pgcode", None)
        if isinstance(state, str) and state:
            return state
    return ""


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(out) < 10:
        seen.add(id(current))
        out.append(current)
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else (current.__cause__ or current.__context__)
    return out


def is_collision(exc: BaseException) -> bool:
    """Two transactions collided (deadlock, serialization failure): running the work again succeeds."""
    return _sqlstate(exc) in COLLISION_STATES


def is_database_unavailable(exc: BaseException) -> bool:
    """The database cannot be reached, or dropped the connection (restart, failover, network)."""
    state = _sqlstate(exc)
    if state.startswith(_CONNECTION_STATES):
        return True
    for e in _chain(exc):
        if isinstance(e, DBAPIError) and e.connection_invalidated:
            return True
        if isinstance(e, OSError | ConnectionError):  # refused, reset, unreachable, timed out
            return True
        if isinstance(e, InterfaceError | OperationalError) and not state:
            return True
        if type(e).__name__ in ("ConnectionDoesNotExistError", "ConnectionFailureError", "InterfaceError"):
            return True
    return False


def is_passing(exc: BaseException) -> bool:
    """A collision, the database gone, or an error that says so itself (``retryable = True``: a dependency
    that cannot answer now)."""
    if any(getattr(e, "retryable", False) for e in _chain(exc)):
        return True
    return is_collision(exc) or is_database_unavailable(exc)
