"""A rule's condition as a tree (comparisons, ``in`` lists, and / or / not), the fields it may name, and its limits."""

from __future__ import annotations

from dataclasses import dataclass

TEXT_FIELDS = {"industry", "size", "name", "zip", "external_id"}
NUMBER_FIELDS = {"potential", "revenue", "visits_per_year", "workload_hours", "lat", "lon"}
OPERATORS = ("=", "!=", "<", "<=", ">", ">=")
MAX_CONDITION_LENGTH = 2_000
MAX_DNF_TERMS = 256


class RuleSyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class Cmp:
    field: str
    op: str
    value: str | float


@dataclass(frozen=True)
class In:
    field: str
    values: tuple[str | float, ...]
    negated: bool = False


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


@dataclass(frozen=True)
class TrueNode:
    pass


Node = Cmp | In | And | Or | Not | TrueNode
