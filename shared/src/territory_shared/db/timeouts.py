"""PostgreSQL ``statement_timeout``: a bound on every statement, shorter for API requests than for background work.

The engine's connections default to the background timeout (jobs, relays, consumers). Code that serves a
request runs inside ``statement_timeout(seconds)``; each connection it checks out is switched to that timeout
first (one ``SET`` when the connection's current value differs, outside any transaction so a rollback cannot
undo it). A statement cancelled by the timeout raises a ``DBAPIError`` with SQLSTATE 57014, which the API
answers with a 503 problem.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_only

QUERY_CANCELED = "57014"
_KEY = "statement_timeout_ms"
_wanted_ms: ContextVar[int | None] = ContextVar("statement_timeout_ms", default=None)


def _ms(seconds: float) -> int:
    return max(int(seconds * 1000), 0)  # 0: no timeout


@contextmanager
def statement_timeout(seconds: float | None) -> Iterator[None]:
    """Statements run in this context (and tasks it starts) are cancelled after ``seconds``; None: the default."""
    token = _wanted_ms.set(None if seconds is None else _ms(seconds))
    try:
        yield
    finally:
        _wanted_ms.reset(token)


def use_default_statement_timeout() -> None:
    """Background work started from a request (a job) goes back to the engine's longer default."""
    _wanted_ms.set(None)


def install_statement_timeout(engine: AsyncEngine, default_s: float) -> None:
    if engine.dialect.name != "postgresql":
        return  # SQLite has no statement timeout; its busy_timeout bounds lock waits
    default_ms = _ms(default_s)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        await_only(dbapi_connection.driver_connection.execute(f"SET statement_timeout = {default_ms}"))
        record.info[_KEY] = default_ms

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        wanted = _wanted_ms.get()
        wanted = default_ms if wanted is None else wanted
        if record.info.get(_KEY) != wanted:
            await_only(dbapi_connection.driver_connection.execute(f"SET statement_timeout = {wanted}"))
            record.info[_KEY] = wanted
