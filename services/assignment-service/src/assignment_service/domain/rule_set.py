"""A sales force's rule set: rules tried by precedence, then the fallback (geography, or unassigned)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from assignment_service.domain.rules import (
    Node,
    RuleSyntaxError,
    evaluate,
    never_matches,
    parse_condition,
    shadowed_by,
    type_errors,
)

Fallback = Literal["geography", "unassigned"]


@dataclass(frozen=True)
class Rule:
    name: str
    precedence: int
    condition: str
    node: Node
    territory_code: str | None  # None: the account keeps its geography territory (the rule only scopes it)
    rep_id: str | None = None


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    fallback: Fallback
    version: int = 1

    def first_match(self, facts: dict[str, Any]) -> Rule | None:
        for rule in self.rules:
            if evaluate(rule.node, facts):
                return rule
        return None


@dataclass(frozen=True)
class RuleProblem:
    rule: str
    field: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "field": self.field, "reason": self.reason}


def build_rule_set(
    raw_rules: list[dict[str, Any]], fallback: Fallback, version: int = 1
) -> tuple[RuleSet, list[RuleProblem]]:
    """Parse, type-check and order the rules; problems name the rule and the reason (nothing is half-saved)."""
    problems: list[RuleProblem] = []
    parsed: list[Rule] = []
    seen_names: set[str] = set()
    seen_precedence: dict[int, str] = {}
    for raw in raw_rules:
        name = str(raw["name"])
        if name in seen_names:
            problems.append(RuleProblem(name, "name", "two rules have this name"))
        seen_names.add(name)
        precedence = int(raw["precedence"])
        if precedence in seen_precedence:
            problems.append(
                RuleProblem(
                    name, "precedence", f"same precedence as rule {seen_precedence[precedence]!r}: order is ambiguous"
                )
            )
        seen_precedence.setdefault(precedence, name)
        try:
            node = parse_condition(str(raw["condition"]))
        except RuleSyntaxError as exc:
            problems.append(RuleProblem(name, "condition", f"syntax: {exc}"))
            continue
        for fld, reason in type_errors(node):
            problems.append(RuleProblem(name, fld, reason))
        if raw.get("territory_code") is None and not raw.get("geography", False):
            problems.append(RuleProblem(name, "territory_code", "give territory_code, or geography: true"))
        parsed.append(
            Rule(
                name=name,
                precedence=precedence,
                condition=str(raw["condition"]),
                node=node,
                territory_code=raw.get("territory_code"),
                rep_id=raw.get("rep_id"),
            )
        )
    parsed.sort(key=lambda r: r.precedence)
    if not problems:
        for i, rule in enumerate(parsed):
            if never_matches(rule.node):
                problems.append(RuleProblem(rule.name, "condition", "unreachable: the condition can never be true"))
            elif shadowed_by(rule.node, [r.node for r in parsed[:i]]):
                earlier = [r.name for r in parsed[:i] if shadowed_by(rule.node, [r.node])]
                who = f"rule {earlier[0]!r}" if earlier else "the rules before it together"
                problems.append(
                    RuleProblem(rule.name, "condition", f"unreachable: every account it matches is taken by {who}")
                )
    return RuleSet(tuple(parsed), fallback, version), problems
