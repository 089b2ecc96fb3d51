"""Apache Kafka adapter over kafka-python.

kafka-python is blocking, so every client call runs on a dedicated single thread per client
(never on the API's event loop, and never on two threads at once: its clients are not thread-safe).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaConnectionError, KafkaError, TopicAlreadyExistsError

from territory_shared.messaging.bus import IncomingMessage, OutgoingMessage
from territory_shared.messaging.partitions import default_partitions

log = logging.getLogger(__name__)
T = TypeVar("T")


class _ClientThread:
    def __init__(self, name: str) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    async def run(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False)


DELIVERY_TIMEOUT_MS = 30000
FLUSH_TIMEOUT_S = DELIVERY_TIMEOUT_MS / 1000 + 5


class KafkaPublisher:
    """Idempotent producer with ``acks=all``: a returned ``publish`` means the broker has every message."""

    def __init__(self, bootstrap_servers: str, client_id: str, topic_prefix: str = "") -> None:
        self._prefix = topic_prefix
        self._bootstrap = bootstrap_servers
        self._client_id = client_id
        self._producer: KafkaProducer | None = None
        self._thread = _ClientThread(f"{client_id}-producer")

    def _ensure_producer(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = KafkaProducer(
                bootstrap_servers=self._bootstrap,
                client_id=self._client_id,
                acks="all",
                enable_idempotence=True,
                # Idempotence keeps order per partition with up to 5 requests in flight.
                max_in_flight_requests_per_connection=5,
                linger_ms=5,
                # The relay hands over thousands of small events at once: 16 KB batches (the default) made one
                # produce request per ~25 events; 512 KB batches carry a relay batch in a few requests.
                batch_size=512 * 1024,
                max_block_ms=5000,
                request_timeout_ms=10000,
                delivery_timeout_ms=DELIVERY_TIMEOUT_MS,
            )
        return self._producer

    def _publish_blocking(self, messages: Sequence[OutgoingMessage]) -> None:
        try:
            producer = self._ensure_producer()
            # The partition the default partitioner would choose, computed for the whole batch at once: per
            # message, its pure-Python murmur2 and metadata look-ups were half the cost of a send.
            topics = [self._prefix + m.topic for m in messages]
            keys = [m.key.encode() for m in messages]
            partition = [0] * len(messages)
            for topic in set(topics):
                among = [i for i, t in enumerate(topics) if t == topic]
                chosen = default_partitions([keys[i] for i in among], producer.partitions_for(topic))
                for i, p in zip(among, chosen, strict=True):
                    partition[i] = p
            headers: dict[tuple[tuple[str, str], ...], list[tuple[str, bytes]]] = {}
            futures = []
            for m, topic, key, p in zip(messages, topics, keys, partition, strict=True):
                if (encoded := headers.get(items := tuple(m.headers.items()))) is None:
                    encoded = headers[items] = [(k, v.encode()) for k, v in items]
                futures.append(producer.send(topic, key=key, value=m.value, headers=encoded, partition=p))
            # Bounded: after a broker restart a flush has been seen to wait forever, stalling the relay.
            producer.flush(timeout=FLUSH_TIMEOUT_S)
            for future in futures:
                future.get(timeout=0)  # raises the send's error, if any
        except Exception:
            # A producer that failed may hold a broken sequence state: start clean next time.
            self._drop_producer()
            raise

    def _drop_producer(self) -> None:
        if self._producer is not None:
            try:
                self._producer.close(timeout=1)
            except Exception:  # noqa: BLE001 - closing a broken client must not mask the real error
                log.debug("closing a failed producer raised", exc_info=True)
            self._producer = None

    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        if messages:
            await self._thread.run(lambda: self._publish_blocking(messages))

    async def ping(self) -> bool:
        return await self._thread.run(lambda: broker_reachable(self._bootstrap))

    async def close(self) -> None:
        await self._thread.run(self._drop_producer)
        self._thread.shutdown()


class KafkaSubscriber:
    """One member of a consumer group; offsets are committed by hand, only after processing."""

    def __init__(self, bootstrap_servers: str, group: str, topics: Sequence[str], topic_prefix: str = "") -> None:
        self._prefix = topic_prefix
        self._thread = _ClientThread(f"{group}-consumer")
        self._bootstrap = bootstrap_servers
        self._group = group
        self._topics = list(topics)
        self._consumer: KafkaConsumer | None = None

    def _ensure_consumer(self) -> KafkaConsumer:
        if self._consumer is None:
            consumer = KafkaConsumer(
                bootstrap_servers=self._bootstrap,
                group_id=self._group,
                client_id=self._group,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                max_poll_records=500,
                session_timeout_ms=10000,
                heartbeat_interval_ms=2000,
            )
            consumer.subscribe([self._prefix + t for t in self._topics])
            self._consumer = consumer
        return self._consumer

    def _poll_blocking(self, max_records: int, timeout_s: float) -> list[IncomingMessage]:
        batches = self._ensure_consumer().poll(timeout_ms=int(timeout_s * 1000), max_records=max_records)
        out: list[IncomingMessage] = []
        for records in batches.values():
            for r in records:
                out.append(
                    IncomingMessage(
                        topic=r.topic.removeprefix(self._prefix),
                        partition=r.partition,
                        offset=r.offset,
                        key=r.key.decode() if r.key is not None else None,
                        value=r.value,
                        headers={k: (v or b"").decode() for k, v in (r.headers or [])},
                    )
                )
        return out

    async def poll(self, max_records: int, timeout_s: float) -> list[IncomingMessage]:
        return await self._thread.run(lambda: self._poll_blocking(max_records, timeout_s))

    async def commit(self) -> None:
        await self._thread.run(lambda: self._ensure_consumer().commit())

    def _rewind_blocking(self) -> None:
        consumer = self._consumer
        if consumer is None:
            return
        for tp in consumer.assignment():
            committed = consumer.committed(tp)
            if committed is None:
                consumer.seek_to_beginning(tp)
            else:
                consumer.seek(tp, committed)

    async def rewind(self) -> None:
        await self._thread.run(self._rewind_blocking)

    async def close(self) -> None:
        def _close() -> None:
            if self._consumer is not None:
                self._consumer.close(autocommit=False)
                self._consumer = None

        await self._thread.run(_close)
        self._thread.shutdown()


def _any_port_open(bootstrap_servers: str, timeout_s: float = 1.0) -> bool:
    for server in bootstrap_servers.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            with socket.create_connection((host.strip("[]") or "localhost", int(port)), timeout=timeout_s):
                return True
        except (OSError, ValueError):
            continue
    return False


def broker_reachable(bootstrap_servers: str) -> bool:
    # Without a listening broker the admin client spends 30 s trying to bootstrap: readiness must answer now.
    if not _any_port_open(bootstrap_servers):
        return False
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=3000)
    except KafkaError:
        return False
    try:
        admin.list_topics()
        return True
    except KafkaError:
        return False
    finally:
        admin.close()


def consumer_group(topic_prefix: str, name: str) -> str:
    """The broker's id of a consumer group: the prefix names an environment, whose groups must not join another's
    (and whose lag is read from that same group)."""
    return topic_prefix + name


def is_broker_unavailable(exc: BaseException) -> bool:
    """The broker cannot be reached or cannot answer yet (down, starting, a network fault): worth waiting for."""
    return isinstance(exc, KafkaError | OSError)


def ensure_topics(bootstrap_servers: str, topics: Sequence[str], partitions: int) -> None:
    """Create the topics a producer or consumer needs; existing ones are left as they are."""
    # Without a listening broker the admin client tries to bootstrap for 30 s: a process waiting for the broker
    # would notice it is back that much later, and could not stop meanwhile.
    if not _any_port_open(bootstrap_servers):
        raise KafkaConnectionError(f"no broker listens at {bootstrap_servers}")
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=10000)
    try:
        existing = set(admin.list_topics())
        missing = [NewTopic(t, num_partitions=partitions, replication_factor=1) for t in topics if t not in existing]
        if missing:
            try:
                admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass
    finally:
        admin.close()


class KafkaBus:
    def __init__(self, bootstrap_servers: str, client_id: str, *, partitions: int = 3, topic_prefix: str = "") -> None:
        self.topic_prefix = topic_prefix
        self.bootstrap_servers = bootstrap_servers
        self.client_id = client_id
        self.partitions = partitions

    def publisher(self) -> KafkaPublisher:
        return KafkaPublisher(self.bootstrap_servers, self.client_id, self.topic_prefix)

    def subscriber(self, group: str, topics: Sequence[str]) -> KafkaSubscriber:
        return KafkaSubscriber(
            self.bootstrap_servers, consumer_group(self.topic_prefix, group), topics, self.topic_prefix
        )

    async def ensure_topics(self, topics: Sequence[str]) -> None:
        prefixed = [self.topic_prefix + t for t in topics]
        await asyncio.to_thread(ensure_topics, self.bootstrap_servers, prefixed, self.partitions)

    def describe(self) -> dict[str, Any]:
        return {"kind": "kafka", "bootstrap_servers": self.bootstrap_servers}
