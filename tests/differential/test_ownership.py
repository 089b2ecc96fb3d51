"""Differential, generated test of the platform's central guarantee, on real NC counties.

Random sequences of real API calls (accounts upserted, moved and deleted, rule sets, overrides, roster entries,
reps deactivated and reactivated, drafts edited, previewed and published, a second sales force) and after each:

1. metrics-service's consistency check answers consistent for every sales force with an active alignment;
2. what metrics-service shows for the active alignment (per leaf territory: account count, potential, primary rep,
   reps; and what no territory holds) equals the truth computed from assignment-service's own records;
3. publishing a draft does what its preview said (accounts moved, gains and losses per territory and rep), and
   metrics-service's figures of the draft before publishing are those of the active alignment after.

The same sequences run on PostGIS + Kafka processes too, where a consumer is also killed and the broker stopped
at generated points. ``DIFFERENTIAL_EXAMPLES=50`` (``DIFFERENTIAL_KAFKA_EXAMPLES`` for the Kafka run) runs more,
and longer, sequences than the default, derandomized budget.
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.differential.platform import (
    Figures,
    KafkaPlatform,
    Platform,
    Tenant,
    differences,
    shown,
    truth,
)

FIELD, OVERLAY = "field", "overlay"
FIELD_CODES = ["F1", "F2", "F3", "F4"]
OVERLAY_CODES = ["O1", "O2"]
REPS = [f"rep-{i}" for i in range(1, 7)]
ACCOUNTS = [f"acct-{i:02d}" for i in range(12)]
INDUSTRIES = ["retail", "health"]
SEA = (-70.0, 34.0)  # in no county

# Which rules a run took: a run that never upserted or published would prove nothing, and says so.
RAN: Counter[str] = Counter()
EXAMPLES = int(os.environ.get("DIFFERENTIAL_EXAMPLES", "0"))
# Each example imports NC's counties for a tenant of its own, and a step that finds a difference polls for
# the platform's settle deadline before failing: shrinking costs minutes, so only the larger run shrinks.
BUDGET = (
    settings(max_examples=EXAMPLES, stateful_step_count=25, derandomize=False, deadline=None)
    if EXAMPLES
    else settings(
        max_examples=6,
        stateful_step_count=10,
        derandomize=True,
        database=None,  # no examples saved by an earlier run: the same sequences on every machine
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
    )
)

# The Kafka run: each step is slower (processes, a broker restart takes tens of seconds), so fewer; the faults
# are rules like the others, so where they fall in a sequence is generated too.
KAFKA_EXAMPLES = int(os.environ.get("DIFFERENTIAL_KAFKA_EXAMPLES", "0"))
KAFKA_BUDGET = (
    settings(max_examples=KAFKA_EXAMPLES, stateful_step_count=20, derandomize=False, deadline=None)
    if KAFKA_EXAMPLES
    else settings(
        max_examples=3,
        stateful_step_count=12,
        derandomize=True,
        database=None,  # no examples saved by an earlier run: the same sequences on every machine
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
    )
)

# A location: a unit (its index in the sorted unit ids), the sea, or a ZIP code (an account needs one of the
# two; a ZIP resolves to its centroid): Raleigh's, or Boston's, in no NC county.
locations = st.one_of(st.integers(0, 99), st.just("sea"), st.sampled_from(["zip:27601", "zip:02108"]))
account_rows = st.fixed_dictionaries(
    {
        "external_id": st.sampled_from(ACCOUNTS),
        "where": locations,
        "potential": st.one_of(st.none(), st.integers(0, 1000)),
        "industry": st.one_of(st.none(), st.sampled_from(INDUSTRIES)),
    }
)
# On the Kafka platform, where a step injects a fault: 0 the broker is stopped around it, 1 a consumer is killed
# after it; anything else, none. Drawn like every other input, so where faults fall in a sequence is generated.
faults = st.integers(0, 3)
field_targets = st.sampled_from([*FIELD_CODES, "KEY"])  # KEY: an account-based territory (no units)


def today() -> date:
    return datetime.now(UTC).date()


class OwnershipMachine(RuleBasedStateMachine):
    platform: Platform | KafkaPlatform

    entries = Bundle("entries")

    def __init__(self) -> None:
        super().__init__()
        self.t: Tenant = self.platform.tenant()
        self.units: list[str] = []
        self.points: dict[str, tuple[float, float]] = {}
        self.layer = ""
        self.accounts: dict[str, dict[str, Any]] = {}  # external id -> the row last sent
        self.active: dict[str, str] = {}  # sales force -> active alignment id
        self.draft: str | None = None
        self.rep_ids: dict[str, str] = {}

    # -- set-up ----------------------------------------------------------------------------------------------

    @initialize(rows=st.lists(account_rows, min_size=3, max_size=8, unique_by=lambda r: r["external_id"]))
    def set_up(self, rows: list[dict[str, Any]]) -> None:
        self.layer = self.t.import_nc()
        self.points = self.t.unit_points(self.layer)
        # Units west to east; the four field territories are bands of 22 counties, the easternmost 12 white space.
        self.units = sorted(self.points, key=lambda u: (self.points[u][0], u))
        for ext in REPS:
            r = self.t.call(
                "PUT", f"/assignment/v1/reps/{ext}", expect=(201,), json={"name": ext, "capacity_hours": 1600}
            )
            self.rep_ids[ext] = r.json()["id"]
        alignment = self.t.create_alignment(FIELD, layer_id=self.layer)
        for i, code in enumerate(FIELD_CODES):
            territory = self.t.create_territory(alignment, code)
            self.t.move(alignment, self.units[i * 22 : (i + 1) * 22], territory)
        self.t.create_territory(alignment, "KEY")  # account-based: rules and overrides name it, it holds no unit
        self.t.publish(alignment)
        self.active[FIELD] = alignment
        for code, ext in zip(FIELD_CODES, REPS, strict=False):
            self.t.call(
                "POST",
                "/assignment/v1/roster-entries",
                expect=(201,),
                json={"sales_force": FIELD, "territory_code": code, "rep_external_id": ext, "role": "primary"},
            )
        self._some_accounts(rows)

    def _some_accounts(self, rows: list[dict[str, Any]]) -> None:
        """Every sequence starts with accounts (generated), so the rules that need one can run from the first step.
        On Kafka they are written while the broker is down: every run has that outage."""
        body = [self._row(r["external_id"], r["where"], r["potential"], r["industry"]) for r in rows]
        if self.platform.faults:
            self.platform.stop_broker(lambda: self.t.upsert_accounts(body))  # type: ignore[attr-defined]
        else:
            self.t.upsert_accounts(body)
        for row in body:
            self.accounts[row["external_id"]] = row

    def _row(self, external_id: str, where: Any, potential: int | None, industry: str | None) -> dict[str, Any]:
        row: dict[str, Any] = {"external_id": external_id, "name": external_id}
        if isinstance(where, str) and where.startswith("zip:"):
            row["zip"] = where.removeprefix("zip:")
        elif where == "sea":
            row |= {"lon": SEA[0], "lat": SEA[1]}
        elif where is not None:
            lon, lat = self.points[self.units[where % len(self.units)]]
            row |= {"lon": lon, "lat": lat}
        if potential is not None:
            row["potential"] = potential
        if industry is not None:
            row["industry"] = industry
        return row

    # -- accounts ----------------------------------------------------------------------------------------------

    @rule(
        rows=st.lists(account_rows, min_size=1, max_size=4, unique_by=lambda r: r["external_id"]),
        fault=faults,
    )
    def upsert_accounts(self, rows: list[dict[str, Any]], fault: int) -> None:
        RAN["upsert_accounts"] += 1
        body = [self._row(r["external_id"], r["where"], r["potential"], r["industry"]) for r in rows]

        def upsert() -> None:
            self.t.upsert_accounts(body)

        if self.platform.faults and fault == 0:
            self.platform.stop_broker(upsert)  # type: ignore[attr-defined]  # written to the outbox meanwhile
        else:
            upsert()
        if self.platform.faults and fault == 1:
            self.platform.kill_consumer("metrics")  # type: ignore[attr-defined]  # while it applies them, maybe
        for row in body:
            self.accounts[row["external_id"]] = row

    @precondition(lambda self: self.accounts)
    @rule(data=st.data(), where=st.integers(0, 99))
    def move_account(self, data: st.DataObject, where: int) -> None:
        RAN["move_account"] += 1
        ext = data.draw(st.sampled_from(sorted(self.accounts)), label="account")
        row = {k: v for k, v in self.accounts[ext].items() if k != "zip"}
        lon, lat = self.points[self.units[where]]
        row |= {"lon": lon, "lat": lat}
        self.t.upsert_accounts([row])
        self.accounts[ext] = row

    @precondition(lambda self: self.accounts)
    @rule(data=st.data())
    def delete_account(self, data: st.DataObject) -> None:
        RAN["delete_account"] += 1
        ext = data.draw(st.sampled_from(sorted(self.accounts)), label="account")
        self.t.call("DELETE", f"/assignment/v1/accounts/{ext}", expect=(204,))
        del self.accounts[ext]

    # -- rules and overrides -------------------------------------------------------------------------------

    @rule(
        kind=st.sampled_from(["to-territory", "to-territory-and-rep", "geography", "none"]),
        code=field_targets,
        rep=st.sampled_from(REPS),
        fallback=st.sampled_from(["geography", "unassigned"]),
    )
    def save_rule_set(self, kind: str, code: str, rep: str, fallback: str) -> None:
        RAN["save_rule_set"] += 1
        rule_: dict[str, Any] = {"name": "health", "precedence": 1, "condition": "industry = health"}
        if kind == "to-territory":
            rules = [rule_ | {"territory_code": code}]
        elif kind == "to-territory-and-rep":
            rules = [rule_ | {"territory_code": code, "rep_external_id": rep}]
        elif kind == "geography":
            rules = [rule_ | {"geography": True}]
        else:
            rules = []
        self.t.save_rule_set(FIELD, rules, fallback)

    @precondition(lambda self: self.accounts)
    @rule(
        data=st.data(),
        territory=st.one_of(st.none(), field_targets),
        rep=st.one_of(st.none(), st.sampled_from(REPS)),
    )
    def set_override(self, data: st.DataObject, territory: str | None, rep: str | None) -> None:
        RAN["set_override"] += 1
        if territory is None and rep is None:
            territory = FIELD_CODES[0]
        ext = data.draw(st.sampled_from(sorted(self.accounts)), label="account")
        body = {"territory_code": territory, "rep_external_id": rep}
        self.t.call("PUT", f"/assignment/v1/sales-forces/{FIELD}/overrides/{ext}", json=body)

    @precondition(lambda self: self.accounts)
    @rule(data=st.data(), where=st.sampled_from(["rule-set", "override", "roster"]))
    def name_a_territory_no_alignment_has(self, data: st.DataObject, where: str) -> None:
        """Refused (422 naming the field), and nothing changes: the invariants compare with the truth after."""
        RAN["name_a_territory_no_alignment_has"] += 1
        nope = {"territory_code": "NOPE-T"}
        if where == "rule-set":
            before = self.t.call("GET", f"/assignment/v1/sales-forces/{FIELD}/rule-set", expect=(200, 404)).text
            rule_ = {"name": "nope", "precedence": 1, "condition": "industry = health"} | nope
            body = {"rules": [rule_], "fallback": "geography"}
            r = self.t.call("PUT", f"/assignment/v1/sales-forces/{FIELD}/rule-set", expect=(422,), json=body)
            assert [e["field"] for e in r.json()["errors"]] == ["rules.0.territory_code"], r.text
            after = self.t.call("GET", f"/assignment/v1/sales-forces/{FIELD}/rule-set", expect=(200, 404)).text
            assert after == before
        elif where == "override":
            ext = data.draw(st.sampled_from(sorted(self.accounts)), label="account")
            r = self.t.call("PUT", f"/assignment/v1/sales-forces/{FIELD}/overrides/{ext}", expect=(422,), json=nope)
            assert r.json()["field"] == "territory_code", r.text
        else:
            body = {"sales_force": FIELD, "rep_external_id": REPS[0]} | nope
            r = self.t.call("POST", "/assignment/v1/roster-entries", expect=(422,), json=body)
            assert r.json()["field"] == "territory_code", r.text

    @precondition(lambda self: self.accounts and self.draft is not None)
    @rule(data=st.data())
    def override_to_a_territory_only_the_draft_has(self, data: st.DataObject) -> None:
        """A code of a draft may be named before it is published: until then no active territory holds it."""
        RAN["override_to_a_territory_only_the_draft_has"] += 1
        assert self.draft is not None
        if "NEW" not in self.t.territory_ids(self.draft):
            self.t.create_territory(self.draft, "NEW")
        ext = data.draw(st.sampled_from(sorted(self.accounts)), label="account")
        self.t.call("PUT", f"/assignment/v1/sales-forces/{FIELD}/overrides/{ext}", json={"territory_code": "NEW"})

    @precondition(lambda self: self.accounts)
    @rule(data=st.data())
    def remove_override(self, data: st.DataObject) -> None:
        RAN["remove_override"] += 1
        ext = data.draw(st.sampled_from(sorted(self.accounts)), label="account")
        self.t.call("DELETE", f"/assignment/v1/sales-forces/{FIELD}/overrides/{ext}", expect=(204, 404))

    # -- reps and rosters ----------------------------------------------------------------------------------

    @rule(
        target=entries,
        code=st.sampled_from(FIELD_CODES),
        rep=st.sampled_from(REPS),
        role=st.sampled_from(["primary", "secondary"]),
        starts=st.sampled_from([-1, 0]),
        open_ended=st.booleans(),
    )
    def add_roster_entry(self, code: str, rep: str, role: str, starts: int, open_ended: bool) -> str:
        RAN["add_roster_entry"] += 1
        body: dict[str, Any] = {
            "sales_force": FIELD,
            "territory_code": code,
            "rep_external_id": rep,
            "role": role,
            "effective_from": (today() + timedelta(days=starts)).isoformat(),
        }
        if not open_ended:
            body["effective_to"] = (today() + timedelta(days=30)).isoformat()
        # 422: the territory already has an active primary rep then.
        r = self.t.call("POST", "/assignment/v1/roster-entries", expect=(201, 422), json=body)
        return r.json()["id"] if r.status_code == 201 else ""

    @rule(entry=consumes(entries))
    def end_roster_entry(self, entry: str) -> None:
        RAN["end_roster_entry"] += 1
        if entry:
            self.t.call("POST", f"/assignment/v1/roster-entries/{entry}/end")

    @rule(rep=st.sampled_from(REPS), active=st.booleans())
    def set_rep_active(self, rep: str, active: bool) -> None:
        RAN["set_rep_active"] += 1
        body = {"name": rep, "capacity_hours": 1600, "active": active}
        self.t.call("PUT", f"/assignment/v1/reps/{rep}", json=body)

    # -- drafts, previews, publishing ----------------------------------------------------------------------

    @precondition(lambda self: self.draft is None)
    @rule()
    def create_draft(self) -> None:
        RAN["create_draft"] += 1
        self.draft = self.t.create_alignment(FIELD, copy_from=self.active[FIELD])

    @precondition(lambda self: self.draft is not None)
    @rule(first=st.integers(0, 99), count=st.integers(1, 6), to=st.one_of(st.none(), st.sampled_from(FIELD_CODES)))
    def move_units_in_draft(self, first: int, count: int, to: str | None) -> None:
        RAN["move_units_in_draft"] += 1
        assert self.draft is not None
        territory = self.t.territory_ids(self.draft)[to] if to else None
        self.t.move(self.draft, self.units[first : first + count], territory)

    @precondition(lambda self: self.draft is not None)
    @rule(fault=faults)
    def preview_and_publish_draft(self, fault: int) -> None:
        RAN["preview_and_publish_draft"] += 1
        assert self.draft is not None
        draft, self.draft = self.draft, None
        before = self._settled_draft_figures(draft)
        preview = self.t.call("POST", "/assignment/v1/realignments/preview", params={"alignment_id": draft}).json()
        # On Kafka, maybe: assignment-service's consumer, which applies the realignment, killed as it starts on it.
        kill = self.platform.kill_consumer if self.platform.faults and fault < 2 else None  # type: ignore[attr-defined]
        run = self.t.publish(draft, after_publishing=(lambda: kill("assignment")) if kill else None)
        self.active[FIELD] = draft
        summary = run["summary"] or {}
        event("publish moved accounts" if run["accounts_moved"] else "publish moved no account")
        problems = []
        if run["accounts_moved"] != preview["accounts_moved"]:
            problems.append(f"accounts_moved: preview {preview['accounts_moved']}, run {run['accounts_moved']}")
        for part, key in (("territories", "territory_code"), ("reps", "rep_external_id")):
            said = {x[key]: x for x in preview[part]}
            did = {x[key]: {k: v for k, v in x.items() if k in (said.get(x[key]) or x)} for x in summary.get(part, [])}
            for name in sorted(set(said) | set(did), key=str):
                if said.get(name) != did.get(name):
                    problems.append(f"{part}[{name}]: preview {said.get(name)}, run {did.get(name)}")
        assert not problems, f"the preview of {draft} is not what publishing it did:\n  " + "\n  ".join(problems)
        # What metrics-service said of the draft is what it says of the published alignment.
        self.check(FIELD)
        after = shown(self._metrics_or_fail(draft))
        diffs = [
            f"{code or '(no territory)'}.{attr}: draft showed {getattr(before[code], attr)!r}, "
            f"published shows {getattr(after.get(code), attr, None)!r}"
            for code in sorted(set(before) | set(after), key=lambda c: (c is None, c or ""))
            for attr in ("accounts", "potential")
            if code not in before
            or code not in after
            or abs(getattr(before[code], attr) - getattr(after[code], attr)) > 1e-6
        ]
        assert not diffs, f"metrics of draft {draft} before publishing != after publishing:\n  " + "\n  ".join(diffs)

    @precondition(lambda self: OVERLAY not in self.active)
    @rule(split=st.integers(10, 90))
    def publish_overlay(self, split: int) -> None:
        RAN["publish_overlay"] += 1
        alignment = self.t.create_alignment(OVERLAY, layer_id=self.layer)
        for code, units in zip(OVERLAY_CODES, (self.units[:split], self.units[split:]), strict=True):
            self.t.move(alignment, units, self.t.create_territory(alignment, code))
        self.t.publish(alignment)
        self.active[OVERLAY] = alignment

    # -- the end of every sequence --------------------------------------------------------------------------

    def teardown(self) -> None:
        """Every sequence ends by publishing a draft (its own, or a copy with a few units moved), so that every run
        compares a preview with its realignment and a draft's figures with the published alignment's."""
        if FIELD not in self.active:
            return  # the set-up did not finish: nothing to publish
        if self.draft is None:
            self.create_draft()
            self.move_units_in_draft(first=0, count=3, to=FIELD_CODES[-1])
        self.preview_and_publish_draft(fault=2)

    # -- the invariants ------------------------------------------------------------------------------------

    @invariant()
    def metrics_show_the_truth(self) -> None:
        for sales_force in sorted(self.active):
            self.check(sales_force)

    def _metrics_or_fail(self, alignment_id: str) -> dict[str, Any]:
        body = self.t.metrics(alignment_id)
        assert body is not None, f"metrics-service does not know alignment {alignment_id}"
        return body

    def _settled_draft_figures(self, draft: str) -> dict[str | None, Figures]:
        """The draft's figures once metrics-service holds geo-service's memberships of it and the accounts."""
        self.check(FIELD)  # accounts and rosters settled on the active alignment
        import time

        deadline = time.monotonic() + self.t.platform.settle_deadline_s
        while True:
            units = self.t.get(f"/geo/v1/alignments/{draft}/units")
            expected: dict[str, int] = {}
            for u in units:
                if u["territory_id"]:
                    expected[u["territory_id"]] = expected.get(u["territory_id"], 0) + 1
            body = self.t.metrics(draft)
            if body is not None:
                got = {t["territory_id"]: t["unit_count"] for t in body["territories"] if t["leaf"] and t["unit_count"]}
                if got == expected:
                    return shown(body)
            assert time.monotonic() < deadline, (
                f"metrics-service never showed draft {draft}'s units as geo-service has them"
            )
            time.sleep(0.05)

    def check(self, sales_force: str) -> None:
        """Poll, with a deadline, until metrics-service agrees with the truth; else fail naming every difference."""
        import time

        alignment = self.active[sales_force]
        leaves = self.t.leaf_codes(alignment)
        deadline = time.monotonic() + self.t.platform.settle_deadline_s
        while True:
            quiet = self.t.platform.quiet()
            expected = truth(self.t, sales_force, leaves)
            consistency = self.t.consistency(sales_force)
            body = self.t.metrics(alignment)
            problems: list[str] = []
            if not consistency["consistent"]:
                problems += [f"consistency endpoint: {d}" for d in consistency["differences"]]
            if body is None:
                problems.append(f"metrics-service does not know the active alignment {alignment}")
            else:
                problems += differences(expected, shown(body), f"metrics-service ({sales_force})")
            if quiet and not problems:
                return
            if time.monotonic() > deadline:
                owner = self.t.ownership(sales_force)
                # The endpoint lists codes the alignment lacks apart: the truth counts them as held by no leaf.
                own: dict[str | None, dict[str, Any]] = {}
                for t in owner["territories"]:
                    code = t["territory_code"] if t["territory_code"] in leaves else None
                    seen = own.setdefault(
                        code, {"accounts": 0, "primary_rep_id": t["primary_rep_id"] if code else None}
                    )
                    seen["accounts"] += t["accounts"]
                truth_vs_endpoint = [
                    f"{c or '(none)'}: ownership endpoint {own.get(c)}, truth {f}"
                    for c, f in expected.items()
                    if (own.get(c) or {}).get("accounts", 0) != f.accounts
                    or (c and (own.get(c) or {}).get("primary_rep_id") != f.primary_rep_id)
                ]
                raise AssertionError(
                    f"sales force {sales_force!r}, active alignment {alignment} (tenant {self.t.id}): "
                    f"metrics-service disagrees with assignment-service after {self.t.platform.settle_deadline_s}s:\n  "
                    + "\n  ".join(problems)
                    + (
                        "\n  and the ownership endpoint vs the truth:\n  " + "\n  ".join(truth_vs_endpoint)
                        if truth_vs_endpoint
                        else ""
                    )
                )
            time.sleep(0.1)


def assert_covered(
    essential: tuple[tuple[str, ...], ...] = (
        ("upsert_accounts",),
        ("save_rule_set",),
        ("set_override", "override_to_a_territory_only_the_draft_has"),
        ("add_roster_entry",),
        ("preview_and_publish_draft",),
    ),
) -> None:
    """Each group of rules was taken at least once: a run that never upserted or published would prove nothing."""
    print(f"rules taken: {dict(sorted(RAN.items()))}")  # noqa: T201 - the run's coverage, in the test's output
    missed = [group for group in essential if not any(RAN[r] for r in group)]
    assert not missed, f"the run never took {missed}: {dict(RAN)}"


@pytest.mark.timeout(3600)
def test_metrics_and_previews_tell_the_truth_about_ownership(tmp_path: Path) -> None:
    RAN.clear()
    with Platform(tmp_path) as platform:
        OwnershipMachine.platform = platform
        run_state_machine_as_test(
            OwnershipMachine,
            settings=settings(BUDGET, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]),
        )
    assert_covered()


@pytest.mark.kafka
@pytest.mark.postgis
@pytest.mark.timeout(3600)
def test_on_kafka_processes_with_consumers_killed_and_the_broker_stopped_nothing_is_lost_or_told_twice(
    tmp_path: Path,
) -> None:
    RAN.clear()
    with KafkaPlatform(tmp_path) as platform:
        OwnershipMachine.platform = platform
        run_state_machine_as_test(
            OwnershipMachine,
            settings=settings(KAFKA_BUDGET, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]),
        )
        assert all(platform.injected.values()), f"faults injected: {platform.injected}"
    # Fewer, slower steps: the run is about faults; the embedded run covers every kind of operation.
    assert_covered((("upsert_accounts",), ("preview_and_publish_draft",)))
