"""Parsing a condition's text into its tree (a tokenizer and a recursive-descent parser: no eval)."""

from __future__ import annotations

import re

from assignment_service.domain.rules.conditions import (
    MAX_CONDITION_LENGTH,
    And,
    Cmp,
    In,
    Node,
    Not,
    Or,
    RuleSyntaxError,
    TrueNode,
)

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
