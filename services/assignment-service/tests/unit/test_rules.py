"""The rule language: parsing, types, evaluation and reachability, with no database."""

from __future__ import annotations

import pytest
from assignment_service.domain.rule_set import build_rule_set
from assignment_service.domain.rules import RuleSyntaxError, evaluate, parse_condition, type_errors


def rules(*specs: tuple[str, int, str]) -> list[dict]:
    return [{"name": n, "precedence": p, "condition": c, "territory_code": n.upper()} for n, p, c in specs]


@pytest.mark.parametrize(
    ("condition", "facts", "expected"),
    [
        ("industry = healthcare and size in (L, XL)", {"industry": "Healthcare", "size": "XL"}, True),
        ("industry = healthcare and size in (L, XL)", {"industry": "healthcare", "size": "M"}, False),
        ("potential >= 1e6 or custom.beds > 200", {"potential": 10.0, "custom.beds": 250.0}, True),
        ("not (industry = 'finance & insurance')", {"industry": "finance & insurance"}, False),
        ("size not in (S, M)", {"size": None}, False),
        ("zip = 27601", {"zip": "27601"}, True),
        ("true", {}, True),
    ],
)
def test_conditions_evaluate_on_account_facts(condition, facts, expected):
    assert evaluate(parse_condition(condition), facts) is expected


@pytest.mark.parametrize("condition", ["", "industry =", "size in (L, XL", "a = b c", "potential >= __import__('os')"])
def test_malformed_conditions_are_syntax_errors(condition):
    with pytest.raises(RuleSyntaxError):
        parse_condition(condition)


def test_type_errors_name_the_field():
    assert type_errors(parse_condition("revenue = high")) == [("revenue", "revenue is a number; 'high' is not")]
    assert [f for f, _ in type_errors(parse_condition("size = XXL or colour = red"))] == ["size", "colour"]


def test_a_rule_covered_by_an_earlier_one_is_unreachable_and_a_narrower_earlier_one_is_not():
    _, problems = build_rule_set(
        rules(("hc", 1, "industry = healthcare"), ("hc-xl", 2, "industry = healthcare and size = XL")), "geography"
    )
    assert [(p.rule, "unreachable" in p.reason) for p in problems] == [("hc-xl", True)]
    _, problems = build_rule_set(
        rules(("hc-xl", 1, "industry = healthcare and size = XL"), ("hc", 2, "industry = healthcare")), "geography"
    )
    assert problems == []


def test_ranges_sets_and_catch_alls_are_checked_for_reachability():
    _, problems = build_rule_set(
        rules(
            ("big", 1, "potential > 100"),
            ("bigger", 2, "potential >= 500 and industry = retail"),
            ("mid", 3, "potential > 50 and potential <= 100"),
            ("sizes", 4, "size in (L, XL)"),
            ("xl", 5, "size = XL or (size = L and potential > 1000)"),
            ("none", 6, "size = S and size = M"),
            ("rest", 7, "true"),
            ("after-rest", 8, "industry = retail"),
        ),
        "geography",
    )
    assert sorted(p.rule for p in problems) == ["after-rest", "bigger", "none", "xl"]


def test_rules_are_tried_by_precedence():
    rule_set, problems = build_rule_set(
        rules(("b", 2, "industry = healthcare"), ("a", 1, "industry = healthcare and size = XL")), "unassigned"
    )
    assert problems == []
    assert rule_set.first_match({"industry": "healthcare", "size": "XL"}).name == "a"  # type: ignore[union-attr]
    assert rule_set.first_match({"industry": "healthcare", "size": "S"}).name == "b"  # type: ignore[union-attr]
    assert rule_set.first_match({"industry": "retail"}) is None


@pytest.mark.parametrize(
    ("target", "fields"),
    [
        ({"territory_code": "HC", "geography": True}, ["rules.1.geography"]),
        ({"geography": True, "rep_id": "r-1"}, ["rules.1.rep_external_id"]),
        ({"geography": False}, ["rules.1.territory_code"]),
        ({"geography": True}, []),
        ({"territory_code": "HC", "rep_id": "r-1"}, []),
    ],
    ids=["code-and-geography", "geography-with-a-rep", "no-target", "geography", "code-and-rep"],
)
def test_a_rule_must_say_exactly_where_its_accounts_go(target, fields):
    raw = [*rules(("retail", 1, "industry = retail")), {"name": "hc", "precedence": 2, "condition": "true", **target}]
    _, problems = build_rule_set(raw, "geography")
    assert [p.field for p in problems] == fields and all(p.rule == "hc" for p in problems)
