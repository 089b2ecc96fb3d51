"""Waiting for a dependency that is not there yet: try, and after a failure that says "not now", wait a little
longer each time (doubling, capped) and try again, until it works or the process is told to stop.

A relay or consumer started before its database or broker must come up on its own once they do: exiting would
leave that to whoever restarts it, and a restart loop hides why it is not working behind a crash count.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

FIRST_DELAY_S = 0.5
# Long enough not to hammer a dependency that is down for a while, short enough that the process starts working
# seconds after it is back.
MAX_DELAY_S = 10.0


async def until_done(
    what: str,
    attempt: Callable[[], Awaitable[object]],
    *,
    passing: Callable[[BaseException], bool],
    stop: asyncio.Event,
    first_delay_s: float = FIRST_DELAY_S,
    max_delay_s: float = MAX_DELAY_S,
) -> bool:
    """Run ``attempt`` until it succeeds (True) or ``stop`` is set (False).

    A failure ``passing`` accepts is logged and retried; any other is a fault of ours and propagates.
    """
    delay = first_delay_s
    tries = 0
    while not stop.is_set():
        tries += 1
        try:
            await attempt()
        except Exception as exc:
            if not passing(exc):
                raise
            # Jittered: many processes that lost the same dependency should not all come back at the same instant.
            wait = delay * random.uniform(0.8, 1.0)  # noqa: S311 - spreading retries, not cryptography
            log.warning("waiting to %s (try %d failed: %s); next try in %.1f s", what, tries, _describe(exc), wait)
            log.debug("the failure of try %d to %s", tries, what, exc_info=True)
            await _sleep_or_stop(stop, wait)
            delay = min(delay * 2, max_delay_s)
            continue
        if tries > 1:
            log.info("could %s after %d tries", what, tries)
        return True
    return False


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return text if text.startswith(type(exc).__name__) else f"{type(exc).__name__}: {text}"  # Kafka's name themselves


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        pass
