"""Who is making the current change: the acting user, carried with the work (imports nothing of the platform).

``authorize`` sets it for a request (the token's subject, or ``api-key:<name>``); a job started by the request
inherits it (asyncio copies the context into new tasks); a consumer acts for whoever made the change that caused
the event (the envelope's ``actor``); anything else acts as ``system``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

SYSTEM = "system"
_ACTOR: ContextVar[str | None] = ContextVar("territory_actor", default=None)


def current_actor() -> str:
    return _ACTOR.get() or SYSTEM


def set_actor(actor: str | None) -> None:
    """For the rest of the current task (a request): changes are made by ``actor``."""
    _ACTOR.set(actor)


@contextmanager
def acting_as(actor: str | None) -> Iterator[None]:
    """Within the block, changes are made by ``actor`` (a consumer handling an event someone caused)."""
    token = _ACTOR.set(actor)
    try:
        yield
    finally:
        _ACTOR.reset(token)
