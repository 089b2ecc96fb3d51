"""Run a coroutine to completion from synchronous test code.

On a thread of its own: some fixtures (Playwright's sync API) keep an event loop running on the main
thread for the whole session, and ``asyncio.run`` refuses to start inside a running loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-async") as pool:
        return pool.submit(asyncio.run, coroutine).result()
