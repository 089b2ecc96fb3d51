"""Run a service's Alembic migrations before it serves.

Alembic's async ``env.py`` calls ``asyncio.run``; that cannot nest in a running loop, so callers
inside a loop use ``await asyncio.to_thread(upgrade_to_head, ...)`` (and a synchronous call made
where a loop runs gets a thread of its own).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from alembic import command
from alembic.config import Config


def alembic_config(migrations_dir: Path, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    # '%' is an interpolation character for ConfigParser; URLs may hold it in passwords.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_to_head(migrations_dir: Path, database_url: str) -> None:
    config = alembic_config(migrations_dir, database_url)
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # no loop in this thread: env.py may start its own
        command.upgrade(config, "head")
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="migrate") as pool:
        pool.submit(command.upgrade, config, "head").result()
