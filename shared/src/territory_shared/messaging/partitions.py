"""Kafka's default partition of many keys at once: murmur2 (the Java client's, as kafka-python computes it)
vectorised with numpy over keys of equal length.

kafka-python hashes each key in pure Python, ~15 us a key: a realignment's hundred thousand events spent
more time there than in the broker. The result is the partitioner's to the bit, so a key keeps its partition
(and its events their order) whichever way it was hashed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

_M = np.uint32(0x5BD1E995)
_SEED = 0x9747B28C


def murmur2_many(keys: Sequence[bytes]) -> list[int]:
    """``kafka.partitioner.default.murmur2`` of every key."""
    out = [0] * len(keys)
    by_length: dict[int, list[int]] = defaultdict(list)
    for i, key in enumerate(keys):
        by_length[len(key)].append(i)
    with np.errstate(over="ignore"):
        for length, positions in by_length.items():
            data = np.frombuffer(b"".join(keys[i] for i in positions), dtype=np.uint8).reshape(len(positions), length)
            h = np.full(len(positions), _SEED ^ length, dtype=np.uint32)
            words = length // 4
            if words:
                blocks = np.ascontiguousarray(data[:, : words * 4]).view("<u4")
                for w in range(words):
                    k = blocks[:, w] * _M
                    k ^= k >> np.uint32(24)
                    k *= _M
                    h *= _M
                    h ^= k
            tail = data[:, words * 4 :].astype(np.uint32)
            extra = length % 4
            if extra >= 3:
                h ^= tail[:, 2] << np.uint32(16)
            if extra >= 2:
                h ^= tail[:, 1] << np.uint32(8)
            if extra >= 1:
                h ^= tail[:, 0]
                h *= _M
            h ^= h >> np.uint32(13)
            h *= _M
            h ^= h >> np.uint32(15)
            for i, value in zip(positions, h.tolist(), strict=True):
                out[i] = value
    return out


def default_partitions(keys: Sequence[bytes], partitions: Sequence[int]) -> list[int]:
    """The partition kafka-python's default partitioner gives each key among a topic's ``partitions``."""
    ordered = sorted(partitions)
    n = len(ordered)
    return [ordered[(h & 0x7FFFFFFF) % n] for h in murmur2_many(keys)]
