"""What the outbox relay and the inbox consumer need from a bus; Kafka and in-process implement it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class OutgoingMessage:
    topic: str
    key: str
    value: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IncomingMessage:
    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes
    headers: dict[str, str] = field(default_factory=dict)


class Publisher(Protocol):
    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        """Return only once every message is durably accepted by the bus, in order per key; raise otherwise."""

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


class Subscriber(Protocol):
    async def poll(self, max_records: int, timeout_s: float) -> list[IncomingMessage]:
        """The next messages for this consumer group, in order per partition."""

    async def commit(self) -> None:
        """Mark everything returned by earlier polls as processed for this consumer group."""

    async def rewind(self) -> None:
        """Forget what was polled since the last commit: the next poll starts again from the commit."""

    async def close(self) -> None: ...


class BusFactory(Protocol):
    def publisher(self) -> Publisher: ...

    def subscriber(self, group: str, topics: Sequence[str]) -> Subscriber: ...
