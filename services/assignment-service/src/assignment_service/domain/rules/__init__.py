"""Assignment rules: a small, safe condition language (no eval), its type checks and reachability analysis.

The condition tree (conditions.py), its parser (syntax.py), type checks (validation.py), evaluation against an
account (evaluation.py), and the analysis of rules that can never match or are shadowed (reachability.py).

``industry = healthcare and size in (L, XL)``, ``potential >= 1e6 or custom.beds > 200``,
``not (state = 'NC')``. Text comparisons ignore case. A comparison with a field the account does not have
is false. Rules are tried by ``precedence`` (lowest number first); the first that matches wins.
"""

from assignment_service.domain.rules.conditions import (
    MAX_CONDITION_LENGTH,
    MAX_DNF_TERMS,
    NUMBER_FIELDS,
    OPERATORS,
    TEXT_FIELDS,
    And,
    Cmp,
    In,
    Node,
    Not,
    Or,
    RuleSyntaxError,
    TrueNode,
)
from assignment_service.domain.rules.evaluation import evaluate
from assignment_service.domain.rules.reachability import never_matches, shadowed_by, terms_of
from assignment_service.domain.rules.syntax import parse_condition
from assignment_service.domain.rules.validation import field_type, type_errors

__all__ = [
    "MAX_CONDITION_LENGTH",
    "MAX_DNF_TERMS",
    "NUMBER_FIELDS",
    "OPERATORS",
    "TEXT_FIELDS",
    "And",
    "Cmp",
    "In",
    "Node",
    "Not",
    "Or",
    "RuleSyntaxError",
    "TrueNode",
    "evaluate",
    "field_type",
    "never_matches",
    "parse_condition",
    "shadowed_by",
    "terms_of",
    "type_errors",
]
