"""Type checks of a parsed condition: every field it names exists and every comparison can be made on accounts."""

from __future__ import annotations

from assignment_service.domain.accounts import SIZES
from assignment_service.domain.rules.conditions import (
    NUMBER_FIELDS,
    TEXT_FIELDS,
    And,
    Cmp,
    In,
    Node,
    Not,
    Or,
)


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
