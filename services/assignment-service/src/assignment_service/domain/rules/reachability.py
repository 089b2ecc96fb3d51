"""Reachability of rules: whether a condition can never be true, and whether earlier rules already match every
account a later one would (conditions in disjunctive normal form, compared field by field)."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

from assignment_service.domain.rules.conditions import (
    MAX_DNF_TERMS,
    And,
    Cmp,
    In,
    Node,
    Not,
    Or,
    TrueNode,
)
from assignment_service.domain.rules.evaluation import text_value


@dataclass
class _FieldRange:
    """What one conjunction allows for one field: a set of texts or an interval, minus excluded values."""

    allowed: frozenset[Any] | None = None
    excluded: set[Any] = field(default_factory=set)
    lo: float = -math.inf
    lo_open: bool = False
    hi: float = math.inf
    hi_open: bool = False

    def add(self, op: str, values: tuple[Any, ...], negated: bool) -> None:
        if op in ("=", "in") and not negated:
            vals = frozenset(values)
            self.allowed = vals if self.allowed is None else self.allowed & vals
        elif op in ("!=", "in"):
            self.excluded |= set(values)
        else:
            (v,) = values
            if op in (">", ">=") and (v > self.lo or (v == self.lo and op == ">")):
                self.lo, self.lo_open = v, op == ">"
            if op in ("<", "<=") and (v < self.hi or (v == self.hi and op == "<")):
                self.hi, self.hi_open = v, op == "<"

    def _in_interval(self, v: Any) -> bool:
        if not isinstance(v, float):
            return True
        return (v > self.lo or (v == self.lo and not self.lo_open)) and (
            v < self.hi or (v == self.hi and not self.hi_open)
        )

    def effective(self) -> frozenset[Any] | None:
        if self.allowed is None:
            return None
        return frozenset(v for v in self.allowed if v not in self.excluded and self._in_interval(v))

    def empty(self) -> bool:
        eff = self.effective()
        if eff is not None:
            return not eff
        return self.lo > self.hi or (self.lo == self.hi and (self.lo_open or self.hi_open))

    def within(self, other: _FieldRange) -> bool:
        """Every value this range allows, ``other`` allows too."""
        mine, theirs = self.effective(), other.effective()
        if theirs is not None:
            return mine is not None and mine <= theirs
        if mine is not None:
            return all(other._in_interval(v) and v not in other.excluded for v in mine)
        lo_ok = self.lo > other.lo or (self.lo == other.lo and (self.lo_open or not other.lo_open))
        hi_ok = self.hi < other.hi or (self.hi == other.hi and (self.hi_open or not other.hi_open))
        return lo_ok and hi_ok and all(v in self.excluded or not self._in_interval(v) for v in other.excluded)


@dataclass
class _Term:
    ranges: dict[str, _FieldRange]
    opaque: frozenset[Node]  # negated sub-conditions, compared only for identity

    def empty(self) -> bool:
        return any(r.empty() for r in self.ranges.values())

    def within(self, other: _Term) -> bool:
        if not other.opaque <= self.opaque:
            return False
        return all(f in self.ranges and self.ranges[f].within(r) for f, r in other.ranges.items())


def _dnf(node: Node) -> list[list[Node]] | None:
    """Disjunctive normal form as lists of atoms (``Not`` kept as opaque atoms); None when too large."""
    if isinstance(node, TrueNode):
        return [[]]
    if isinstance(node, Or):
        out: list[list[Node]] = []
        for item in node.items:
            sub = _dnf(item)
            if sub is None:
                return None
            out += sub
        return out if len(out) <= MAX_DNF_TERMS else None
    if isinstance(node, And):
        parts = [p for p in (_dnf(i) for i in node.items) if p is not None]
        if len(parts) < len(node.items):
            return None
        size = math.prod([len(p) for p in parts])
        if size > MAX_DNF_TERMS:
            return None
        return [list(itertools.chain.from_iterable(combo)) for combo in itertools.product(*parts)]
    if isinstance(node, Not) and isinstance(node.item, Not):
        return _dnf(node.item.item)
    if isinstance(node, Not) and isinstance(node.item, And):
        return _dnf(Or(tuple(Not(i) for i in node.item.items)))
    if isinstance(node, Not) and isinstance(node.item, Or):
        return _dnf(And(tuple(Not(i) for i in node.item.items)))
    return [[node]]


def _term(atoms: list[Node]) -> _Term:
    ranges: dict[str, _FieldRange] = {}
    opaque: set[Node] = set()
    for atom in atoms:
        if isinstance(atom, Cmp):
            ranges.setdefault(atom.field, _FieldRange()).add(
                atom.op, (text_value(atom.field, atom.value),), negated=False
            )
        elif isinstance(atom, In):
            vals = tuple(text_value(atom.field, v) for v in atom.values)
            ranges.setdefault(atom.field, _FieldRange()).add("in", vals, negated=atom.negated)
        else:
            opaque.add(atom)
    return _Term(ranges, frozenset(opaque))


def terms_of(node: Node) -> list[_Term] | None:
    dnf = _dnf(node)
    return None if dnf is None else [_term(t) for t in dnf]


def never_matches(node: Node) -> bool:
    terms = terms_of(node)
    return terms is not None and all(t.empty() for t in terms)


def shadowed_by(node: Node, earlier: list[Node]) -> bool:
    """True when every account this condition matches is already matched by one of the ``earlier`` ones."""
    terms = terms_of(node)
    if terms is None:
        return False
    earlier_terms = [t for n in earlier for t in (terms_of(n) or [])]
    return all(t.empty() or any(t.within(e) for e in earlier_terms) for t in terms)
