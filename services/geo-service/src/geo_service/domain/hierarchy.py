"""The rules of a territory hierarchy, on a plain map of node -> parent (None: the top level).

A node's parent is in the same alignment, never the node itself nor one of its descendants (no cycles), and
parents come before their children wherever both are written.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import TypeVar

N = TypeVar("N", bound=Hashable)


def ancestors(node: N, parents: Mapping[N, N | None]) -> list[N]:
    """The node's parent, its parent's parent... up to the top; stops before repeating itself (a cycle)."""
    out: list[N] = []
    seen = {node}
    parent = parents.get(node)
    while parent is not None and parent not in seen:
        out.append(parent)
        seen.add(parent)
        parent = parents.get(parent)
    return out


def would_cycle(node: N, new_parent: N | None, parents: Mapping[N, N | None]) -> bool:
    """Whether making ``new_parent`` the node's parent puts the node under itself."""
    return new_parent is not None and (new_parent == node or node in ancestors(new_parent, parents))


def in_cycle(node: N, parents: Mapping[N, N | None]) -> bool:
    """Whether following parents from the node leads back to it."""
    chain = ancestors(node, parents)
    last = chain[-1] if chain else node
    return parents.get(last) == node


def parents_first(nodes: Iterable[N], parents: Mapping[N, N | None]) -> list[N]:
    """The nodes ordered so that each comes after its ancestors (by depth; ties keep their order)."""
    return sorted(nodes, key=lambda n: len(ancestors(n, parents)))
