"""upgrade_to_head works from plain code and from code where an event loop is running (Alembic's async env.py
starts a loop of its own, which cannot nest)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from territory_shared.db.migrate import upgrade_to_head

ENV = """
from sqlalchemy import MetaData
from territory_shared.db.alembic_env import run_migrations

run_migrations(MetaData())
"""

REVISION = """
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("things", sa.Column("id", sa.Integer, primary_key=True))
"""


def _migrations(root: Path) -> Path:
    (root / "versions").mkdir(parents=True)
    (root / "env.py").write_text(ENV)
    (root / "versions" / "0001_things.py").write_text(REVISION)
    return root


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_migrates_from_plain_code(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    upgrade_to_head(_migrations(tmp_path / "migrations"), f"sqlite+aiosqlite:///{db}")
    assert "things" in _tables(db)


def test_migrates_from_code_where_a_loop_runs(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    migrations = _migrations(tmp_path / "migrations")

    async def caller() -> None:
        upgrade_to_head(migrations, f"sqlite+aiosqlite:///{db}")

    asyncio.run(caller())
    assert "things" in _tables(db)
