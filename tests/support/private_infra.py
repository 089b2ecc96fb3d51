"""A Kafka broker and a PostgreSQL server of a test's own, on free ports, for tests that stop or restart them.

The shared servers (scripts/infra) serve everyone's tests at once: a test that takes the broker or the
database down takes down its own copy instead. The broker runs from the same cached jars through
scripts/infra/kafka-start.sh (its ports and data folder are settings); PostgreSQL is a fresh cluster
(initdb, pg_ctl) of the installed server, where the postgis extension is available as on the shared one.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support.processes import free_port

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts" / "infra"
PG_BIN = Path(os.environ.get("TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _state(pid: int) -> str:
    """A process's state letter from /proc ("Z": exited, not yet reaped by its parent); "" once it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return ""


class PrivateKafka:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.env = {
            **os.environ,
            "KAFKA_PORT": str(self.port),
            "KAFKA_CONTROLLER_PORT": str(free_port()),
            "KAFKA_DATA_DIR": str(workdir / "kafka-data"),
            "KAFKA_HEAP_OPTS": "-Xmx384m -Xms128m",
            "KAFKA_START_TIMEOUT": "300",  # a loaded machine: a restart has taken over 2 minutes
        }
        self.bootstrap = f"127.0.0.1:{self.port}"

    def _script(self, name: str, *args: str) -> None:
        r = subprocess.run(["bash", str(SCRIPTS / name), *args], env=self.env, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"{name} failed:\n{r.stderr[-3000:]}")

    def start(self) -> None:
        self._script("kafka-start.sh")

    def stop(self) -> None:
        self._script("kafka-stop.sh")

    def crash(self) -> None:
        """Kill the broker at once (SIGKILL), as a crash would. A clean stop takes seconds, during which the
        broker keeps acknowledging; a test that needs the outage at a given moment of the relaying crashes it.
        Its log is kept (the kernel still holds what it wrote); the next start recovers it."""
        pid_file = Path(self.env["KAFKA_DATA_DIR"]) / "kafka.pid"
        pid = int(pid_file.read_text().strip())
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _state(pid) not in ("", "Z") and time.monotonic() < deadline:
            time.sleep(0.05)
        pid_file.unlink(missing_ok=True)

    def close(self) -> None:
        self._script("kafka-stop.sh", "--wipe")


class PrivatePostgres:
    """A PostgreSQL 15 cluster with the ``territory`` superuser (as on the shared server) on a free port."""

    def __init__(self) -> None:
        self.port = free_port()
        # Not under pytest's tmp_path: the server runs as the postgres user, who must reach its folder.
        self.dir = Path(tempfile.mkdtemp(prefix="territory-pg-"))
        self.data = self.dir / "data"
        self.server = f"territory:territory@127.0.0.1:{self.port}"
        self._as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *args: str) -> None:
        r = subprocess.run([*self._as_postgres, *args], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"{args[0]} failed:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")

    def _pg_ctl(self, *args: str) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", *args)

    def start(self) -> None:
        if not self.data.exists():
            if self._as_postgres:
                shutil.chown(self.dir, "postgres", "postgres")
            self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._pg_ctl("-o", options, "-l", str(self.dir / "server.log"), "start")
        self._run(
            str(PG_BIN / "psql"),
            "-h",
            str(self.dir),
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-qAt",
            "-c",
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'territory') THEN "
            "CREATE ROLE territory LOGIN SUPERUSER PASSWORD 'territory'; END IF; END $$",
        )

    def stop(self) -> None:
        self._pg_ctl("-m", "fast", "stop")

    def close(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
