"""The embedded mode's bus: an append-only log in one SQLite file, shared by the services of one process.

It keeps Kafka's contract where the relay and the consumer rely on it: a publish is durable when it
returns, each consumer group has its own committed position, delivery is at-least-once (a crash
before ``commit`` redelivers), and order is kept (one ordered log, so per key as well). Waiting
consumers are woken as soon as something is appended, so an edit shows up within milliseconds.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from territory_shared.messaging.bus import IncomingMessage, OutgoingMessage

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    headers TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_topic_seq ON messages (topic, seq);
CREATE TABLE IF NOT EXISTS group_offsets (
    grp TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
);
"""


class InProcessLog:
    """The log file and the wake-up signal; one per process, shared by every publisher and subscriber."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self.open()

    def open(self) -> None:
        """Open the file if it is closed: an app stopped and started again (e.g. by a test client) reuses its log."""
        with self._lock:
            if self._conn is not None:
                return
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.executescript(_SCHEMA)
            self._conn = conn
            # A condition belongs to the loop that first waits on it; the next start may run on another loop.
            self._appended = asyncio.Condition()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise sqlite3.ProgrammingError("the in-process bus log is closed")
        return self._conn

    def _append(self, messages: Sequence[OutgoingMessage]) -> None:
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(
                    "INSERT INTO messages (topic, key, value, headers) VALUES (?, ?, ?, ?)",
                    [(m.topic, m.key, m.value, json.dumps(m.headers)) for m in messages],
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def _read(self, topics: Sequence[str], after: int, limit: int) -> list[IncomingMessage]:
        marks = ",".join("?" for _ in topics)
        with self._lock:
            conn = self._connection()
            rows = conn.execute(
                f"SELECT seq, topic, key, value, headers FROM messages "  # noqa: S608 - placeholders only
                f"WHERE topic IN ({marks}) AND seq > ? ORDER BY seq LIMIT ?",
                (*topics, after, limit),
            ).fetchall()
        return [
            IncomingMessage(topic=t, partition=0, offset=seq, key=k, value=v, headers=json.loads(h))
            for seq, t, k, v, h in rows
        ]

    def _committed(self, group: str) -> int:
        with self._lock:
            row = self._connection().execute("SELECT seq FROM group_offsets WHERE grp = ?", (group,)).fetchone()
        return int(row[0]) if row else 0

    def _commit(self, group: str, seq: int) -> None:
        with self._lock:
            self._connection().execute(
                "INSERT INTO group_offsets (grp, seq) VALUES (?, ?) "
                "ON CONFLICT (grp) DO UPDATE SET seq = excluded.seq WHERE excluded.seq > group_offsets.seq",
                (group, seq),
            )

    async def append(self, messages: Sequence[OutgoingMessage]) -> None:
        writing = asyncio.ensure_future(asyncio.to_thread(self._append, messages))
        try:
            await asyncio.shield(writing)
        except asyncio.CancelledError:
            # A thread cannot be cancelled: a caller cancelled at shutdown returns only once the write is over, so
            # the log is never closed under it (and the relay, which did not mark its rows, sends them again).
            await asyncio.wait([writing])
            if not writing.cancelled():
                writing.exception()
            raise
        async with self._appended:
            self._appended.notify_all()

    async def wait_for_append(self, timeout_s: float) -> None:
        async with self._appended:
            try:
                await asyncio.wait_for(self._appended.wait(), timeout_s)
            except TimeoutError:
                pass

    def close(self) -> None:
        # Under the lock: an append running in a worker thread finishes before the file closes.
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


class InProcessPublisher:
    def __init__(self, log: InProcessLog) -> None:
        self._log = log

    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        if messages:
            await self._log.append(messages)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        return None


class InProcessSubscriber:
    def __init__(self, log: InProcessLog, group: str, topics: Sequence[str]) -> None:
        self._log = log
        self._group = group
        self._topics = list(topics)
        self._position: int | None = None

    async def poll(self, max_records: int, timeout_s: float) -> list[IncomingMessage]:
        if self._position is None:
            self._position = await asyncio.to_thread(self._log._committed, self._group)
        batch = await asyncio.to_thread(self._log._read, self._topics, self._position, max_records)
        if not batch:
            await self._log.wait_for_append(timeout_s)
            batch = await asyncio.to_thread(self._log._read, self._topics, self._position, max_records)
        if batch:
            self._position = batch[-1].offset
        return batch

    async def commit(self) -> None:
        if self._position is not None:
            await asyncio.to_thread(self._log._commit, self._group, self._position)

    async def rewind(self) -> None:
        self._position = None

    async def close(self) -> None:
        # Uncommitted positions are forgotten, as with Kafka: the next subscriber starts at the commit.
        self._position = None


class InProcessBus:
    def __init__(self, path: str | Path) -> None:
        self.log = InProcessLog(path)

    def publisher(self) -> InProcessPublisher:
        return InProcessPublisher(self.log)

    def subscriber(self, group: str, topics: Sequence[str]) -> InProcessSubscriber:
        return InProcessSubscriber(self.log, group, topics)

    async def ensure_topics(self, topics: Sequence[str]) -> None:
        return None

    def describe(self) -> dict[str, Any]:
        return {"kind": "inprocess", "path": str(self.log.path)}
