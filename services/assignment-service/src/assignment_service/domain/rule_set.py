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
    """What is wrong with one rule; ``field`` is its path in the request body (``rules.3.geography``), the same
    dotted path FastAPI gives a body field that fails validation, so a client reads both kinds alike."""

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
    index_of: dict[str, int] = {}
    for index, raw in enumerate(raw_rules):
        name = str(raw["name"])
        path = f"rules.{index}"
        if name in seen_names:
            problems.append(RuleProblem(name, f"{path}.name", "two rules have this name"))
        index_of.setdefault(name, index)
        seen_names.add(name)
        precedence = int(raw["precedence"])
        if precedence in seen_precedence:
            problems.append(
                RuleProblem(
                    name,
                    f"{path}.precedence",
                    f"same precedence as rule {seen_precedence[precedence]!r}: order is ambiguous",
                )
            )
        seen_precedence.setdefault(precedence, name)
        try:
            node = parse_condition(str(raw["condition"]))
        except RuleSyntaxError as exc:
            problems.append(RuleProblem(name, f"{path}.condition", f"syntax: {exc}"))
            continue
        for _, reason in type_errors(node):
            problems.append(RuleProblem(name, f"{path}.condition", reason))
        problems += [RuleProblem(name, f"{path}.{fld}", reason) for fld, reason in _target_problems(raw)]
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
            path = f"rules.{index_of[rule.name]}.condition"
            if never_matches(rule.node):
                problems.append(RuleProblem(rule.name, path, "unreachable: the condition can never be true"))
            elif shadowed_by(rule.node, [r.node for r in parsed[:i]]):
                earlier = [r.name for r in parsed[:i] if shadowed_by(rule.node, [r.node])]
                who = f"rule {earlier[0]!r}" if earlier else "the rules before it together"
                problems.append(
                    RuleProblem(rule.name, path, f"unreachable: every account it matches is taken by {who}")
                )
    return RuleSet(tuple(parsed), fallback, version), problems


def _target_problems(raw: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, reason) when the rule does not say exactly where its accounts go.

    A geography rule keeps the account's geography territory and that territory's primary rep, so a
    ``territory_code`` or a rep beside ``geography: true`` would be a second answer: refused rather than one of
    them silently ignored.
    """
    geography = bool(raw.get("geography", False))
    if raw.get("territory_code") is None and not geography:
        return [("territory_code", "give territory_code, or geography: true")]
    problems: list[tuple[str, str]] = []
    if geography and raw.get("territory_code") is not None:
        problems.append(("geography", "give territory_code or geography: true, not both"))
    if geography and (raw.get("rep_id") or raw.get("rep_external_id")) is not None:
        problems.append(("rep_external_id", "a geography rule keeps the territory's primary rep: name no rep"))
    return problems
