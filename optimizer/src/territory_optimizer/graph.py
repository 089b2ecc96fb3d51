"""Connectivity on the unit graph restricted to one territory."""

from __future__ import annotations

from collections import deque


def territory_parts(members: list[int], assign: list[int], neighbors: list[list[int]]) -> list[list[int]]:
    """Connected parts of a territory (its units `members`, all with the same label in `assign`)."""
    if not members:
        return []
    label = assign[members[0]]
    seen: set[int] = set()
    parts: list[list[int]] = []
    for start in members:
        if start in seen:
            continue
        seen.add(start)
        part = [start]
        queue = deque([start])
        while queue:
            u = queue.popleft()
            for v in neighbors[u]:
                if v not in seen and assign[v] == label:
                    seen.add(v)
                    part.append(v)
                    queue.append(v)
        parts.append(part)
    return parts


def stays_connected(unit: int, assign: list[int], neighbors: list[list[int]]) -> bool:
    """Whether the territory of `unit` stays connected without it (is `unit` not an articulation point of it)."""
    label = assign[unit]
    targets = [v for v in neighbors[unit] if assign[v] == label]
    if len(targets) <= 1:
        return True
    remaining = set(targets[1:])
    seen = {unit, targets[0]}
    queue = deque([targets[0]])
    while queue:
        u = queue.popleft()
        for v in neighbors[u]:
            if v not in seen and assign[v] == label:
                if v in remaining:
                    remaining.discard(v)
                    if not remaining:
                        return True
                seen.add(v)
                queue.append(v)
    return False


def non_contiguous(assign: list[int], k: int, neighbors: list[list[int]]) -> list[int]:
    """Territories made of more than one connected part (empty territories are not listed)."""
    members: list[list[int]] = [[] for _ in range(k)]
    for u, t in enumerate(assign):
        members[t].append(u)
    return [t for t in range(k) if len(territory_parts(members[t], assign, neighbors)) > 1]
