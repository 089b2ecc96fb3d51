"""The platform under test, in its two ways to run, behind one small interface.

``DistributedPlatform``: each service as separate processes (API, outbox relay, consumer) on PostGIS
and the Kafka broker that scripts/infra/kafka-start.sh runs. ``EmbeddedPlatform``: ``territory-embedded``
in one process on SQLite and the in-process bus. Each instance has its own databases and topic
namespace, so tests never see each other's events.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer
from territory_shared.messaging.bus import OutgoingMessage
from territory_shared.messaging.inprocess_bus import InProcessBus

from tests.support.aio import run_coroutine
from tests.support.postgres import SERVER, async_url, create_database, drop_database
from tests.support.processes import ServiceProcess, free_port, wait_ready

KAFKA = os.environ.get("TEST_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
DEAD_LETTER_TOPIC = "metrics-service.dead-letter"
FAST_RETRIES = {"METRICS_CONSUMER_MAX_ATTEMPTS": "3", "METRICS_CONSUMER_RETRY_BACKOFF_S": "0.01"}


class DistributedPlatform:
    mode = "kafka"

    def __init__(self, workdir: Path, *, kafka: str = KAFKA, pg_server: str = SERVER) -> None:
        """``kafka`` and ``pg_server``: a broker and a database server of the test's own, when it stops them."""
        self.kafka, self.pg_server = kafka, pg_server
        self.prefix = f"e2e-{uuid.uuid4().hex[:8]}."
        self.databases = {s: create_database(f"e2e_{s}", pg_server) for s in ("geo", "assignment", "metrics")}
        env: dict[str, str] = {**FAST_RETRIES, "LOG_LEVEL": "INFO"}
        for service, database in self.databases.items():
            p = service.upper()
            env |= {
                f"{p}_DATABASE_URL": async_url(database, pg_server),
                f"{p}_BUS_KIND": "kafka",
                f"{p}_KAFKA_BOOTSTRAP_SERVERS": kafka,
                f"{p}_KAFKA_TOPIC_PREFIX": self.prefix,
            }
        self.geo_port, self.metrics_port, self.assignment_port = free_port(), free_port(), free_port()
        self.geo_url = f"http://127.0.0.1:{self.geo_port}"
        self.assignment_url = f"http://127.0.0.1:{self.assignment_port}"
        env |= {
            "METRICS_GEO_URL": self.geo_url,
            "ASSIGNMENT_GEO_URL": self.geo_url,
            "METRICS_ASSIGNMENT_URL": self.assignment_url,
        }
        self.metrics_url = f"http://127.0.0.1:{self.metrics_port}"
        self.geo_db = async_url(self.databases["geo"], pg_server)
        self.metrics_db = async_url(self.databases["metrics"], pg_server)

        def proc(name: str, module: str, *args: str) -> ServiceProcess:
            return ServiceProcess(name, ["-m", f"{module}.cli", *args], env, workdir)

        self.geo_api = proc("geo-api", "geo_service", "api", "--port", str(self.geo_port))
        self.geo_relay = proc("geo-relay", "geo_service", "relay")
        self.assignment_api = proc("assignment-api", "assignment_service", "api", "--port", str(self.assignment_port))
        self.metrics_api = proc("metrics-api", "metrics_service", "api", "--port", str(self.metrics_port))
        self.consumer = proc("metrics-consumer", "metrics_service", "consumer")
        self.metrics_relay = proc("metrics-relay", "metrics_service", "relay")
        self.processes = [
            self.geo_api,
            self.geo_relay,
            self.assignment_api,
            self.metrics_api,
            self.consumer,
            self.metrics_relay,
        ]
        self._producer: KafkaProducer | None = None

    def start(self) -> None:
        # Every process imports and migrates at once: on a loaded machine that takes minutes, not seconds.
        for p in self.processes:
            p.start()
        wait_ready(f"{self.geo_url}/readyz", self.geo_api, deadline_s=600)
        wait_ready(f"{self.metrics_url}/readyz", self.metrics_api, deadline_s=600)
        wait_ready(f"http://127.0.0.1:{self.assignment_port}/readyz", self.assignment_api, deadline_s=600)

    def stop_consumer(self) -> None:
        self.consumer.stop()

    def kill_consumer(self) -> None:
        self.consumer.kill()

    def start_consumer(self) -> None:
        self.consumer.start()

    def inject(self, topic: str, messages: list[tuple[str, bytes]]) -> None:
        """Put raw messages on the bus, as a producer other than geo-service would."""
        if self._producer is None:
            self._producer = KafkaProducer(bootstrap_servers=self.kafka, acks="all", enable_idempotence=True)
        for key, value in messages:
            self._producer.send(self.prefix + topic, key=key.encode(), value=value)
        self._producer.flush()

    def dead_letters(self) -> list[tuple[bytes, dict[str, str]]]:
        consumer = KafkaConsumer(
            self.prefix + DEAD_LETTER_TOPIC,
            bootstrap_servers=self.kafka,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            consumer_timeout_ms=3000,
        )
        try:
            return [(r.value, {k: v.decode() for k, v in r.headers}) for r in consumer]
        finally:
            consumer.close()

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close()
        for p in self.processes:
            p.stop()
        for database in self.databases.values():
            drop_database(database, self.pg_server)


class EmbeddedPlatform:
    mode = "embedded"

    def __init__(self, workdir: Path) -> None:
        self.data_dir = workdir / "data"
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        self.geo_url = f"{self.base_url}/geo"
        self.metrics_url = f"{self.base_url}/metrics"
        self.geo_db = f"sqlite+aiosqlite:///{self.data_dir / 'geo.sqlite'}"
        self.metrics_db = f"sqlite+aiosqlite:///{self.data_dir / 'metrics.sqlite'}"
        self.process = ServiceProcess(
            "embedded",
            ["-m", "territory_embedded.cli", "--port", str(port), "--data-dir", str(self.data_dir), "--no-demo"],
            FAST_RETRIES,
            workdir,
        )

    def start(self) -> None:
        self.process.start()
        wait_ready(f"{self.base_url}/healthz", self.process, deadline_s=600)  # a loaded machine starts slowly

    # One process holds every service: stopping "the consumer" stops the platform.
    def stop_consumer(self) -> None:
        self.process.stop()

    def kill_consumer(self) -> None:
        self.process.kill()

    def start_consumer(self) -> None:
        self.start()

    def inject(self, topic: str, messages: list[tuple[str, bytes]]) -> None:
        bus = InProcessBus(self.data_dir / "bus.sqlite")
        try:
            run_coroutine(bus.publisher().publish([OutgoingMessage(topic, k, v) for k, v in messages]))
        finally:
            bus.log.close()

    def dead_letters(self) -> list[tuple[bytes, dict[str, str]]]:
        import sqlite3

        with sqlite3.connect(self.data_dir / "bus.sqlite") as conn:
            rows = conn.execute(
                "SELECT value, headers FROM messages WHERE topic = ? ORDER BY seq", (DEAD_LETTER_TOPIC,)
            ).fetchall()
        return [(v, json.loads(h)) for v, h in rows]

    def close(self) -> None:
        self.process.stop()


Platform = DistributedPlatform | EmbeddedPlatform
