"""Assignment rules: a small, safe condition language (no eval), its type checks and reachability analysis.

``industry = healthcare and size in (L, XL)``, ``potential >= 1e6 or custom.beds > 200``,
``not (state = 'NC')``. Text comparisons ignore case. A comparison with a field the account does not have
is false. Rules are tried by ``precedence`` (lowest number first); the first that matches wins.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field
from typing import Any

from assignment_service.domain.accounts import SIZES

TEXT_FIELDS = {"industry", "size", "name", "zip", "external_id"}
NUMBER_FIELDS = {"potential", "revenue", "visits_per_year", "workload_hours", "lat", "lon"}
OPERATORS = ("=", "!=", "<", "<=", ">", ">=")
MAX_CONDITION_LENGTH = 2_000
MAX_DNF_TERMS = 256


class RuleSyntaxError(ValueError):
    pass


# ---- syntax -------------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(?![\w.])
      | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<op><=|>=|!=|<>|=|<|>)
      | (?P<punct>[(),])
      | (?P<word>[A-Za-z_][\w.\-&]*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "true"}


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


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise RuleSyntaxError(f"unexpected character {text[pos:].strip()[:1]!r} at position {pos + 1}")
        kind = m.lastgroup or ""
        value = m.group(kind)
        if kind == "word" and value.lower() in _KEYWORDS:
            kind, value = "kw", value.lower()
        elif kind == "string":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        elif kind == "op" and value == "<>":
            value = "!="
        out.append((kind, value))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        if len(text) > MAX_CONDITION_LENGTH:
            raise RuleSyntaxError(f"longer than {MAX_CONDITION_LENGTH} characters")
        self.tokens = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, kind: str, value: str | None = None) -> str:
        tok = self.peek()
        if tok is None or tok[0] != kind or (value is not None and tok[1] != value):
            want = value or kind
            got = "the end" if tok is None else repr(tok[1])
            raise RuleSyntaxError(f"expected {want}, found {got}")
        self.i += 1
        return tok[1]

    def accept(self, kind: str, value: str) -> bool:
        tok = self.peek()
        if tok == (kind, value):
            self.i += 1
            return True
        return False

    def parse(self) -> Node:
        if not self.tokens:
            raise RuleSyntaxError("empty condition (write 'true' for a rule that matches every account)")
        node = self.disjunction()
        if self.peek() is not None:
            raise RuleSyntaxError(f"unexpected {self.peek()[1]!r} after a complete condition")  # type: ignore[index]
        return node

    def disjunction(self) -> Node:
        items = [self.conjunction()]
        while self.accept("kw", "or"):
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def conjunction(self) -> Node:
        items = [self.negation()]
        while self.accept("kw", "and"):
            items.append(self.negation())
        return items[0] if len(items) == 1 else And(tuple(items))

    def negation(self) -> Node:
        if self.accept("kw", "not"):
            return Not(self.negation())
        return self.atom()

    def atom(self) -> Node:
        if self.accept("punct", "("):
            node = self.disjunction()
            self.take("punct", ")")
            return node
        if self.accept("kw", "true"):
            return TrueNode()
        name = self.take("word")
        if self.accept("kw", "not"):
            self.take("kw", "in")
            return In(name, self.value_list(), negated=True)
        if self.accept("kw", "in"):
            return In(name, self.value_list())
        op = self.take("op")
        return Cmp(name, op, self.value())

    def value_list(self) -> tuple[str | float, ...]:
        self.take("punct", "(")
        values = [self.value()]
        while self.accept("punct", ","):
            values.append(self.value())
        self.take("punct", ")")
        return tuple(values)

    def value(self) -> str | float:
        tok = self.peek()
        if tok is None:
            raise RuleSyntaxError("expected a value, found the end")
        kind, value = tok
        self.i += 1
        if kind == "number":
            return float(value)
        if kind in ("string", "word"):
            return value
        raise RuleSyntaxError(f"expected a value, found {value!r}")


def parse_condition(text: str) -> Node:
    return _Parser(text).parse()


# ---- types --------------------------------------------------------------------------------------------------


def field_type(name: str) -> str | None:
    if name in TEXT_FIELDS:
        return "text"
    if name in NUMBER_FIELDS or (name.startswith("custom.") and len(name) > 7):
        return "number"
    return None


def type_errors(node: Node) -> list[tuple[str, str]]:
    """(field, reason) for every comparison that cannot be evaluated on accounts."""
    errors: list[tuple[str, str]] = []

    def check(name: str, op: str, values: tuple[str | float, ...]) -> None:
        kind = field_type(name)
        if kind is None:
            errors.append((name, f"unknown field {name!r}"))
            return
        for v in values:
            if kind == "number" and not isinstance(v, float):
                errors.append((name, f"{name} is a number; {v!r} is not"))
            elif kind == "text":
                if op in ("<", "<=", ">", ">="):
                    errors.append((name, f"{op} does not apply to the text field {name}"))
                elif isinstance(v, float) and name != "zip":
                    errors.append((name, f"{name} is text; compare it with a quoted value, not {v:g}"))
                elif name == "size" and str(v).upper() not in SIZES:
                    errors.append((name, f"size is one of {', '.join(SIZES)}; {v!r} never matches"))

    def walk(n: Node) -> None:
        if isinstance(n, Cmp):
            check(n.field, n.op, (n.value,))
        elif isinstance(n, In):
            check(n.field, "in", n.values)
        elif isinstance(n, And | Or):
            for item in n.items:
                walk(item)
        elif isinstance(n, Not):
            walk(n.item)

    walk(node)
    return errors


# ---- evaluation ---------------------------------------------------------------------------------------------


def _norm(value: str | float) -> str | float:
    return value.casefold() if isinstance(value, str) else value


def _text_value(name: str, value: str | float) -> str | float:
    if name == "zip" and isinstance(value, float):
        return str(int(value)).zfill(5)
    return _norm(value)


def evaluate(node: Node, facts: dict[str, Any]) -> bool:
    if isinstance(node, TrueNode):
        return True
    if isinstance(node, And):
        return all(evaluate(i, facts) for i in node.items)
    if isinstance(node, Or):
        return any(evaluate(i, facts) for i in node.items)
    if isinstance(node, Not):
        return not evaluate(node.item, facts)
    actual = facts.get(node.field)
    if actual is None:
        return False
    actual = _norm(actual)
    if isinstance(node, In):
        hit = any(actual == _text_value(node.field, v) for v in node.values)
        return hit != node.negated
    want = _text_value(node.field, node.value)
    try:
        return {
            "=": actual == want,
            "!=": actual != want,
            "<": actual < want,  # type: ignore[operator]
            "<=": actual <= want,  # type: ignore[operator]
            ">": actual > want,  # type: ignore[operator]
            ">=": actual >= want,  # type: ignore[operator]
        }[node.op]
    except TypeError:
        return False


# ---- reachability -------------------------------------------------------------------------------------------


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
        parts = [_dnf(i) for i in node.items]
        if any(p is None for p in parts):
            return None
        size = math.prod(len(p) for p in parts)  # type: ignore[arg-type]
        if size > MAX_DNF_TERMS:
            return None
        return [list(itertools.chain.from_iterable(combo)) for combo in itertools.product(*parts)]  # type: ignore[arg-type]
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
                atom.op, (_text_value(atom.field, atom.value),), negated=False
            )
        elif isinstance(atom, In):
            vals = tuple(_text_value(atom.field, v) for v in atom.values)
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
