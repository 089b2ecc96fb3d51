"""Evaluating a condition against one account's facts. Text comparisons ignore case; a comparison with a field
the account does not have is false."""

from __future__ import annotations

from typing import Any

from assignment_service.domain.rules.conditions import (
    And,
    In,
    Node,
    Not,
    Or,
    TrueNode,
)


def _norm(value: str | float) -> str | float:
    return value.casefold() if isinstance(value, str) else value


def text_value(name: str, value: str | float) -> str | float:
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
        hit = any(actual == text_value(node.field, v) for v in node.values)
        return hit != node.negated
    want = text_value(node.field, node.value)
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
