"""The batch partitioner gives every key the partition kafka-python's default partitioner gives it."""

from __future__ import annotations

import random
import uuid

from kafka.partitioner.default import DefaultPartitioner, murmur2
from territory_shared.messaging.partitions import default_partitions, murmur2_many


def keys() -> list[bytes]:
    rng = random.Random(7)
    return [
        *(str(uuid.UUID(int=rng.getrandbits(128))).encode() for _ in range(500)),
        *(bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 40))) for _ in range(500)),
        b"",
        b"a",
        b"ab",
        b"abc",
        "é€".encode(),
    ]


def test_murmur2_of_many_keys_is_kafka_pythons_murmur2_of_each():
    ks = keys()
    assert murmur2_many(ks) == [murmur2(k) for k in ks]


def test_a_key_gets_the_partition_the_default_partitioner_gives_it():
    class Cluster:
        def topics(self) -> set[str]:
            return {"t"}

        def partitions_for_topic(self, topic: str) -> set[int]:
            return {2, 0, 1, 5}

        def available_partitions_for_topic(self, topic: str) -> set[int]:
            return {0, 1}

    ks = keys()
    expected = [DefaultPartitioner().partition("t", None, k, None, None, Cluster()) for k in ks]
    assert default_partitions(ks, [5, 1, 0, 2]) == expected
