"""Deciding where one account goes in one sales force: override, then rules, then geography, else unassigned."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from assignment_service.domain.accounts import ACCOUNT_FIELDS, Account
from assignment_service.domain.rule_set import RuleSet


@dataclass(frozen=True)
class Override:
    territory_code: str | None
    rep_id: str | None


@dataclass(frozen=True)
class GeoAnswer:
    """Where geography puts an account: its unit and that unit's territory in the active alignment."""

    unit_id: str | None
    territory_code: str | None
    alignment_id: str | None


@dataclass(frozen=True)
class Decision:
    territory_code: str | None
    rep_id: str | None
    cause: str  # geography | rule | override | unassigned
    rule: str | None = None
    reason: str | None = None
    # The territory is the one geography gives (or would give, once there is an alignment): an alignment that
    # moves the account's unit moves the account. False when a rule, an override or the lack of a location
    # fixes it whatever the map says.
    by_geography: bool = False


@dataclass(frozen=True)
class SalesForcePlan:
    """What a sales force assigns with: its rules (optional), overrides, and the primary rep of each territory."""

    name: str
    rules: RuleSet | None
    primary_rep: dict[str, str]
    has_alignment: bool

    def decide(self, facts: dict[str, Any], geo: GeoAnswer | None, override: Override | None) -> Decision:
        if override is not None:
            base = self._by_rules_or_geography(facts, geo) if override.territory_code is None else None
            territory = override.territory_code or (base.territory_code if base else None)
            rep = override.rep_id or (self.primary_rep.get(territory) if territory else None)
            return Decision(
                territory,
                rep,
                "override",
                reason=None if territory or rep else "override without target",
                by_geography=base.by_geography if base is not None else False,
            )
        return self._by_rules_or_geography(facts, geo)

    def _by_rules_or_geography(self, facts: dict[str, Any], geo: GeoAnswer | None) -> Decision:
        if self.rules is not None:
            rule = self.rules.first_match(facts)
            if rule is not None:
                if rule.territory_code is not None:
                    rep = rule.rep_id or self.primary_rep.get(rule.territory_code)
                    return Decision(rule.territory_code, rep, "rule", rule=rule.name)
                geo_decision = self._geography(facts, geo)
                if geo_decision.territory_code is None:
                    return geo_decision
                return Decision(
                    geo_decision.territory_code, geo_decision.rep_id, "rule", rule=rule.name, by_geography=True
                )
            if self.rules.fallback == "unassigned":
                return Decision(None, None, "unassigned", reason="no rule of the sales force matches the account")
        return self._geography(facts, geo)

    def _geography(self, facts: dict[str, Any], geo: GeoAnswer | None) -> Decision:
        if facts.get("lat") is None:
            return Decision(None, None, "unassigned", reason="the account has no location")
        if not self.has_alignment or geo is None:
            return Decision(
                None, None, "unassigned", reason="the sales force has no active alignment", by_geography=True
            )
        if geo.unit_id is None:
            return Decision(
                None,
                None,
                "unassigned",
                reason="the location is outside every unit of the alignment's layer",
                by_geography=True,
            )
        if geo.territory_code is None:
            return Decision(
                None,
                None,
                "unassigned",
                reason=f"unit {geo.unit_id} is white space (in no territory) in the alignment",
                by_geography=True,
            )
        return Decision(geo.territory_code, self.primary_rep.get(geo.territory_code), "geography", by_geography=True)


# What rules may test of an account: its fields but its ids, version, how it was located and the custom fields
# (each of those is a fact of its own, ``custom.<name>``).
RULE_FIELDS = tuple(f for f in ACCOUNT_FIELDS if f not in ("id", "version", "location_precision", "custom"))


def account_facts(row: Account) -> dict[str, Any]:
    """The fields rules may test, from an account (or a repository row of one)."""
    facts = {name: getattr(row, name) for name in RULE_FIELDS}
    for key, value in (row.custom or {}).items():
        facts[f"custom.{key}"] = value
    return facts
