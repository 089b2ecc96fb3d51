"""What a running service holds: engine, sessions, the bus, its outbox relay and its inbox consumer.

Built from settings by ``ServiceRuntime.build`` inside ``create_app`` or a worker's ``main``; never at
import. The embedded mode passes one shared ``InProcessBus`` to the three services.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from territory_shared.db.engine import create_engine, create_session_factory
from territory_shared.db.migrate import upgrade_to_head
from territory_shared.db.timeouts import install_statement_timeout
from territory_shared.messaging.inbox import Handler, InboxConsumer, topics_of
from territory_shared.messaging.inprocess_bus import InProcessBus
from territory_shared.messaging.kafka_bus import KafkaBus
from territory_shared.messaging.outbox import OutboxRelay
from territory_shared.settings import ServiceSettings

log = logging.getLogger(__name__)

Bus = KafkaBus | InProcessBus


def bus_from_settings(settings: ServiceSettings) -> Bus:
    if settings.bus_kind == "kafka":
        return KafkaBus(
            settings.kafka_bootstrap_servers,
            settings.service_name,
            partitions=settings.kafka_topic_partitions,
            topic_prefix=settings.kafka_topic_prefix,
        )
    return InProcessBus(settings.inprocess_bus_path)


@dataclass
class ServiceRuntime:
    settings: ServiceSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    bus: Bus
    outbox: Table
    inbox: Table
    migrations_dir: Path
    handlers: Mapping[str, Handler] = field(default_factory=dict)
    relay: OutboxRelay | None = None
    _publisher: object | None = None
    # Other services this one asks over HTTP: name -> "does it answer?" (readiness shows them).
    dependencies: dict[str, Callable[[], Awaitable[bool]]] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        settings: ServiceSettings,
        *,
        outbox: Table,
        inbox: Table,
        migrations_dir: Path,
        handlers: Mapping[str, Handler] | None = None,
        bus: Bus | None = None,
    ) -> ServiceRuntime:
        engine = create_engine(settings.database_url)
        install_statement_timeout(engine, settings.job_statement_timeout_s)
        return cls(
            settings=settings,
            engine=engine,
            sessions=create_session_factory(engine),
            bus=bus or bus_from_settings(settings),
            outbox=outbox,
            inbox=inbox,
            migrations_dir=migrations_dir,
            handlers=handlers or {},
        )

    async def migrate(self) -> None:
        await asyncio.to_thread(upgrade_to_head, self.migrations_dir, self.settings.database_url)

    def make_relay(self) -> OutboxRelay:
        self.relay = OutboxRelay(
            self.sessions,
            self.outbox,
            self.bus.publisher(),
            batch_size=self.settings.relay_batch_size,
            idle_wait_s=self.settings.relay_idle_wait_s,
        )
        return self.relay

    def make_consumer(self) -> InboxConsumer:
        return InboxConsumer(
            name=self.settings.service_name,
            session_factory=self.sessions,
            inbox=self.inbox,
            subscriber=self.bus.subscriber(self.settings.service_name, topics_of(self.handlers)),
            dead_letters=self.bus.publisher(),
            dead_letter_topic=self.settings.dead_letter_topic,
            handlers=self.handlers,
            max_attempts=self.settings.consumer_max_attempts,
            retry_backoff_s=self.settings.consumer_retry_backoff_s,
        )

    def outbox_written(self) -> None:
        """Wake the in-process relay after a commit that wrote outbox rows (a no-op for a separate relay)."""
        if self.relay is not None:
            self.relay.notify()

    async def database_ready(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - readiness reports, it does not raise
            log.warning("database not reachable", exc_info=True)
            return False

    async def bus_ready(self) -> bool:
        publisher = self.bus.publisher()
        try:
            return await publisher.ping()
        finally:
            await publisher.close()

    async def close(self) -> None:
        await self.engine.dispose()
