"""optimize(problem, options) -> Plan: seed, anneal, repair, polish, and report the real figures."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from territory_optimizer.columns import grown_territories
from territory_optimizer.diffusion import diffuse
from territory_optimizer.feasibility import precheck
from territory_optimizer.figures import Figures, Violation, compute_figures
from territory_optimizer.graph import stays_connected
from territory_optimizer.model import Model, compile_problem
from territory_optimizer.partition import metis_seed
from territory_optimizer.pool import TerritoryPool
from territory_optimizer.problem import Options, Problem, Progress
from territory_optimizer.rebalance import DEEP_NODES, QUICK_NODES, rebalance_round
from territory_optimizer.search import COARSE, Search, Stop, Weights
from territory_optimizer.seed import balance_weight, power_diagram_seed, repair_contiguity
from territory_optimizer.set_aside import Rest, deviations, move_budget, rest_of, unbalanceable, worse

# Safety limits in seconds of the integer programs. Node limits end them (counts keep a seed's plan the same); a
# limit in seconds that binds makes the plan depend on the machine's load. Measured on a loaded 2-core machine, the
# repair rounds took up to 0.64 s and the set partitioning up to 1.32 s: limits of 1.5 s and 2 s were hit under
# heavier load, and North Carolina's plan for one seed changed from run to run. The run's own time limit still bounds
# them.
MIP_SECONDS = 6.0  # one balance-repair round
ADAPT = 1.15  # step of the adaptive balance weight, per round
POLISH = 3  # polish rounds per search round
# Small instances polish briefly: there the balanced plans are isolated (the pairs of territories of a polished North
# Carolina plan have 1 to 19 balanced re-splits each, the current one the most compact), so the polish finds little
# that the next restart would not, and the restarts' breadth is what the time buys
POLISH_SMALL = 1
AIM = 0.8  # share of each tolerance the search aims at before polishing
# Small instances (up to SMALL units) run many short searches: their balanced plans' compactness is rugged (a few
# coarse units decide it), so breadth finds more than depth, and the territory pool recombines what they find.
SMALL = 400
# Independent starts (power diagram seeds); the later restarts perturb the best plan. Few fresh starts and a long
# patience: the perturbed restarts cost about half a fresh one, and after the fresh starts the set partitioning takes
# territories grown from every unit too (columns.py), which brings what more fresh starts would. On North Carolina
# (32 seeds) 2 starts, a patience of 8 and the grown territories gave a mean Polsby-Popper of 0.389 (minimum 0.378)
# against 0.386 (0.360) with 4 starts, a patience of 10 and no grown territories, in about the same time
FRESH = 2
FRESH_EFFORT = 16  # effort divisor of one fresh start on a small instance
PERTURBED_EFFORT = 8  # effort divisor of one perturbed restart
MAX_RESTARTS = 20  # restarts on small instances at most (runs that find no feasible plan use them all)
PATIENCE = 8  # perturbed restarts in a row that find nothing better end the run (once a plan is feasible)
# ... unless the recombination that follows them, of every territory seen with grown ones from the best plan, finds a
# better plan. Where such a recombination has paid in the run, one that finds nothing is followed by a fresh start
# (DIVERSIFY at most) whose territories the next recombination can join to the rest. On North Carolina K=10 over 64
# seeds: mean Polsby-Popper 0.395, 56 seeds at 0.39 or more, against 0.389 and 41 without either, for a mean run of
# 2.8 s against 1.6 s; on Georgia's counties, where grown territories never pay, one recombination costs 1.7 s
DIVERSIFY = 2
PERTURB_PAIRS = 6  # pairs of territories re-split, balance loosened, to perturb the best plan (one more per stall)
WIDENED_SHARE = 0.5  # of a large proven-infeasible run's time, for the widened search (the rest: tightening)
METIS_RUNS = 4  # METIS partitions per start on a large instance, the best kept
LARGE_STARTS = 4  # starts on a large instance at most: one, and more only while no plan is feasible
MIP_CALLS = 6  # balance-repair integer programs per search at most
PERTURBED_MIP_CALLS = 1  # the same in a perturbed restart: one, that saves the plans that end just out of balance
LOOSEN = 5.0  # how far the perturbation loosens each tolerance
# Searches from an existing alignment, the best kept: one search's count of moved units varies with its random
# draws (on North Carolina K=10, from a 19%-off alignment to +/-5%: 7 to 15 of 100 units over 8 draws, most at 7)
REBALANCE_RUNS = 4
POOL_SECONDS = 8.0  # the set-partitioning recombination
RECOM_TEMP = 2.0  # starting temperature of the polish's single-tree re-splits, in units of the typical move
StoppedBy = Literal["completed", "time_limit", "cancelled"]


@dataclass(frozen=True)
class MetricBalance:
    """One balanced metric's max deviation (a fraction) over the territories the request can balance, in the plan
    and in the initial alignment, against the same targets (what is left for those territories)."""

    name: str
    tolerance: float
    source: float
    plan: float


@dataclass(frozen=True)
class Plan:
    """The best plan found and its real figures.

    `feasible` is True only when every requested constraint holds (`violations` empty). `infeasible_reasons` says
    why the request cannot be met at all, when that is known before searching (e.g. a unit heavier than a territory
    may hold); the plan returned is then the best compromise, with its real figures.

    From an initial alignment: `set_aside` are the territories no plan can balance (kept as they were, see
    set_aside.py), with the units that make them so and why; `balance` compares the plan with the initial alignment
    over the other territories; `fell_back` says the search's own plan was worse there on some metric, so the best
    plan seen that is not worse was returned instead (`kept_source`: the initial alignment itself, nothing better
    was found); `move_budget` is the proportionate budget of moved weight (of the first balanced metric) when one
    applied.
    """

    assignment: np.ndarray  # territory index per unit
    unit_ids: tuple[str, ...]
    feasible: bool
    violations: tuple[Violation, ...]
    infeasible_reasons: tuple[Violation, ...]
    figures: Figures
    stopped_by: StoppedBy
    elapsed_s: float
    seed: int
    set_aside: tuple[int, ...] = ()
    set_aside_units: tuple[int, ...] = ()
    set_aside_reasons: tuple[str, ...] = ()
    balance: tuple[MetricBalance, ...] = ()
    fell_back: bool = False
    kept_source: bool = False
    move_budget: float | None = None

    @property
    def territory_of(self) -> dict[str, int]:
        return dict(zip(self.unit_ids, self.assignment.tolist(), strict=True))


class _Clock:
    def __init__(self, options: Options, model: Model):
        self.start = time.monotonic()
        self.deadline = self.start + max(0.0, options.time_limit_s)
        self.options = options
        self.model = model
        self.last_report = -1.0
        self.last_percent = 0.0
        self.stage = "seed"
        self.span = (0.0, 5.0)
        self.outer = (0.0, 100.0)  # the share of the run taken by the current restart
        self.best_plan: list[int] | None = None
        self.best_dev: float | None = None
        self.best_v: float | None = None
        # Once restarts hold a best plan, a restart's own plans (worse until it ends) are not reported over it:
        # the best balance so far never goes back when a restart begins
        self.held = False
        self.stopped_by: StoppedBy = "completed"
        # From an initial alignment: whether a plan is worse than it (set_aside.worse), and the best plan known that
        # is not (the initial alignment to begin with). The plan reported is the one the run would return now.
        self.worse: Callable[[list[int]], bool] | None = None
        self.safe: list[int] | None = None

    def enter(self, stage: str, lo: float, hi: float) -> None:
        self.stage, self.span = stage, (lo, hi)
        self.report(0.0, force=True)

    def check(self) -> None:
        cancel = self.options.cancel
        if cancel is not None and cancel.is_set():
            self.stopped_by = "cancelled"
            raise Stop(None, None, None)
        if time.monotonic() > self.deadline:
            self.stopped_by = "time_limit"
            raise Stop(None, None, None)

    def tick(self, frac: float, best_v: float, plan: list[int] | None = None) -> None:
        self.check()
        if not self.held:
            self.best_v = best_v
        if plan is not None:
            self.offer(plan)
        self.report(frac)

    def offer(self, plan: list[int]) -> None:
        """The current search's best plan: reported, unless restarts hold a better one."""
        if not self.held:
            self.best_plan = plan

    def hold(self, plan: list[int], violation: float) -> None:
        """The restarts' best plan: reported until a later restart improves on it."""
        self.held = True
        self.best_plan, self.best_v = plan, violation
        if self.worse is not None and not self.worse(plan):
            self.safe = plan

    def returned(self) -> list[int] | None:
        """The plan the run would return if it stopped now."""
        plan = self.best_plan
        if plan is not None and self.worse is not None and self.worse(plan):
            return self.safe
        return plan

    def report(self, frac: float, force: bool = False) -> None:
        cb = self.options.progress
        if cb is None:
            return
        now = time.monotonic()
        if not force and now - self.last_report < 0.1:
            return
        self.last_report = now
        plan = self.returned()
        if plan is not None:
            self.best_dev = _max_deviation(self.model, plan)
        lo, hi = self.span
        inner = lo + (hi - lo) * min(1.0, frac)
        percent = self.outer[0] + (self.outer[1] - self.outer[0]) * inner / 100.0
        # a later stage or restart may begin below where the last one ended (a restart's seed, the tightening of a
        # widened search): the run's percent stays where it was until it catches up
        self.last_percent = max(self.last_percent, min(100.0, percent))
        cb(Progress(self.stage, self.last_percent, self.best_dev, self.best_v, now - self.start))


def _max_deviation(model: Model, assign: list[int]) -> float:
    cols = np.flatnonzero(model.balanced)
    if len(cols) == 0:
        return 0.0
    lab = np.asarray(assign)
    worst = 0.0
    for j in cols:
        totals = np.bincount(lab, weights=model.values[:, j], minlength=model.k)
        worst = max(worst, float(np.max(np.abs(totals - model.targets[:, j]) / model.targets[:, j])))
    return worst


def _weights(model: Model, options: Options) -> Weights:
    per_territory = model.n / model.k
    balance = 2.0 * max(per_territory, 4.0)
    pp, inertia = {"polsby_popper": (1.0, 0.1), "inertia": (0.0, 1.0), "none": (0.0, 0.0)}[options.compactness]
    disruption = 0.0
    if model.initial is not None and options.disruption != "none":
        disruption = 0.5 * balance / per_territory
        pp, inertia = pp * 0.1, inertia * 0.1
    return Weights(balance=balance, polsby_popper=pp, quadratic=0.0, inertia=inertia, disruption=disruption)


def _disruption_values(model: Model, options: Options) -> tuple[np.ndarray | None, int | None]:
    if model.initial is None:
        return None, None
    cols = np.flatnonzero(model.balanced)
    j = int(cols[0]) if len(cols) else 0
    if options.disruption == "weight" or options.max_moved_weight is not None:
        col = model.values[:, j]
        mean = col.mean() if col.mean() > 0 else 1.0
        return col / mean, j
    return np.ones(model.n), j


def optimize(problem: Problem, options: Options | None = None) -> Plan:
    """Design territories for `problem`. Raises ProblemError on a malformed request; an infeasible one still returns
    the best plan found, with `feasible=False` and the reasons."""
    options = options or Options()
    model = compile_problem(problem)
    if options.max_moved_units is not None and options.max_moved_weight is not None:
        raise ValueError("give max_moved_units or max_moved_weight, not both")
    if (options.max_moved_units is not None or options.max_moved_weight is not None) and model.initial is None:
        raise ValueError("a move limit needs an initial alignment (Problem.initial)")
    if options.moves == "free" and (options.max_moved_units is not None or options.max_moved_weight is not None):
        raise ValueError("moves='free' redesigns from scratch: it takes no move limit")
    clock = _Clock(options, model)  # before the precheck, whose proofs count in the run's time
    clock.enter("precheck", 0.0, 0.0)  # its proofs can take a second on a large layer: say what the run is doing
    reasons = precheck(model, problem.unit_ids)
    if model.initial is not None:
        return _from_initial(model, problem, options, clock, reasons)
    weights = _weights(model, options)
    dvals, dmetric = _disruption_values(model, options)

    best: list[int] = []
    try:
        clock.enter("seed", 0.0, 5.0)
        widened = _within_reach(model, reasons)
        if widened is not model and model.n > SMALL:
            # a large layer's widened search would polish until the deadline and leave the tightening no time: it
            # gets a share of the time left, the tightening the rest
            share = time.monotonic() + WIDENED_SHARE * max(0.0, clock.deadline - time.monotonic())
            best = _until(clock, share, lambda: _restarts(widened, options, weights, dvals, clock, True))
        else:
            best = _restarts(widened, options, weights, dvals, clock, proven_infeasible=bool(reasons))
        if widened is not model:
            best = _tightened(model, best, options, weights, dvals, clock)
    except Stop:
        if clock.best_plan is not None:
            best = clock.best_plan
        if clock.stopped_by == "completed":
            clock.stopped_by = "cancelled" if options.cancel is not None and options.cancel.is_set() else "time_limit"
    assignment = np.asarray(best, dtype=np.int64)
    figures = compute_figures(model, assignment, dmetric)
    _done(clock, best)
    return Plan(
        assignment=assignment,
        unit_ids=tuple(problem.unit_ids),
        feasible=not figures.violations,
        violations=figures.violations,
        infeasible_reasons=tuple(reasons),
        figures=figures,
        stopped_by=clock.stopped_by,
        elapsed_s=time.monotonic() - clock.start,
        seed=options.seed,
    )


def _until(clock: _Clock, deadline: float, run: Callable[[], list[int]]) -> list[int]:
    """`run()` with the clock's deadline brought forward to `deadline`: when that stops it, the best plan so far is
    its result and the run goes on; the real deadline and a cancellation still end the run."""
    full = clock.deadline
    clock.deadline = min(full, deadline)
    try:
        return run()
    except Stop:
        if clock.stopped_by != "time_limit" or time.monotonic() > full or clock.best_plan is None:
            raise
        clock.stopped_by = "completed"
        return clock.best_plan
    finally:
        clock.deadline = full


def _done(clock: _Clock, plan: list[int]) -> None:
    clock.stage, clock.span, clock.outer = "done", (100.0, 100.0), (0.0, 100.0)
    clock.best_plan = plan
    clock.worse = None
    clock.report(1.0, force=True)


# The proportionate move budget (Options.moves): this many times the weight that must change territory at least
# (chains of moves through the territories between an overloaded one and an underloaded one carry it more than
# once, and the search aims inside the tolerances), plus this many units of mean weight (units are coarse).
MOVE_FACTOR = 3.0
MOVE_FLOOR_UNITS = 2.0
# With the proportionate budget and no disruption measure asked for, each moved unit also costs this share of a
# unit of mean weight: units without weight (no accounts) are not moved for shape alone at no cost.
UNIT_COST = 0.1


def _from_initial(model: Model, problem: Problem, options: Options, clock: _Clock, reasons: list[Violation]) -> Plan:
    """From an existing alignment: set aside the territories no plan can balance, search the rest (from the
    alignment with a proportionate move budget, or afresh), and return a plan no worse than the alignment."""
    assert model.initial is not None
    w, target = balance_weight(model)
    start = model.initial.tolist()
    for u in np.flatnonzero(model.locked >= 0):
        start[u] = int(model.locked[u])
    start = repair_contiguity(model, start, w, target)
    aside = unbalanceable(model, start, problem.unit_ids)
    rest: Rest | None = None
    sub = model
    if 0 < len(aside.territories) < model.k:  # every territory set aside: nothing to search, the source stays
        rest = rest_of(model, start, aside)
        sub = rest.model
    sub_start = start if rest is None else rest.model.initial.tolist()
    source_dev = deviations(sub, sub_start)
    clock.model = sub
    clock.worse = lambda plan: worse(sub, plan, source_dev)
    clock.safe = clock.best_plan = sub_start

    dvals, dmetric = _disruption_values(sub, options)
    max_moved = None
    budget = None
    if options.max_moved_units is not None:
        max_moved = float(options.max_moved_units)
    elif options.max_moved_weight is not None:
        max_moved = options.max_moved_weight / (sub.values[:, dmetric].mean() or 1.0)
    elif options.moves == "proportionate" and sub.k > 0 and sub.balanced.any():
        budget = move_budget(sub, MOVE_FACTOR, MOVE_FLOOR_UNITS)
        mean = float(sub.values[:, dmetric].mean()) or 1.0
        if options.disruption == "units":
            max_moved = budget / mean  # dvals are ones: the budget as a number of units of mean weight
        elif options.disruption == "weight":
            max_moved = budget / mean
        else:
            dvals = sub.values[:, dmetric] / mean + UNIT_COST
            max_moved = budget / mean * (1.0 + UNIT_COST)
    weights = _weights(sub, options)
    if max_moved is not None and weights.disruption == 0.0:
        weights = Weights(
            weights.balance, weights.polsby_popper, 0.0, weights.inertia, 0.5 * weights.balance * sub.k / sub.n
        )

    best = sub_start
    search: Search | None = None
    if len(aside.territories) < model.k:
        try:
            clock.enter("seed", 0.0, 5.0)
            if options.moves == "free":
                fresh = replace(sub, initial=None)
                clock.model = fresh
                free = replace(options, disruption="none")
                sub_ids = [problem.unit_ids[u] for u in rest.units] if rest is not None else problem.unit_ids
                sub_reasons = reasons if rest is None else precheck(fresh, sub_ids)
                widened = _within_reach(fresh, sub_reasons)
                fw = _weights(fresh, free)
                best = _restarts(widened, free, fw, None, clock, proven_infeasible=bool(sub_reasons))
                if widened is not fresh:
                    best = _tightened(fresh, best, free, fw, None, clock)
                clock.hold(best, 0.0)
            else:
                rng = np.random.default_rng(options.seed)
                best_key = (True, math.inf, math.inf)
                for r in range(REBALANCE_RUNS):
                    clock.outer = (100.0 * r / REBALANCE_RUNS, 100.0 * (r + 1) / REBALANCE_RUNS)
                    search = Search(sub, sub_start, weights, dvals)
                    search.max_moved = max_moved
                    run_rng = rng if r == 0 else np.random.default_rng([options.seed, r])
                    plan = _search(sub, options, search, weights, run_rng, clock)
                    if weights.disruption > 0:
                        plan = _undo_moves(sub, plan, weights, dvals, clock.deadline)
                    search.w = weights
                    search.reset(plan)
                    # a plan no worse than the alignment first, then balance, then the objective
                    key = (worse(sub, plan, source_dev), round(search.violation, 12), _judged(search))
                    if key < best_key:
                        best, best_key = plan, key
                    clock.hold(best, best_key[1])
        except Stop as stop:
            if clock.best_plan is not None:
                best = clock.best_plan
            if search is not None and stop.args and stop.args[0] is not None and best:
                best = _better(sub, best, stop.args[0], search)
            if clock.stopped_by == "completed":
                cancelled = options.cancel is not None and options.cancel.is_set()
                clock.stopped_by = "cancelled" if cancelled else "time_limit"
    fell_back = worse(sub, best, source_dev)
    if fell_back:
        best = clock.safe if clock.safe is not None else sub_start
    kept_source = list(best) == list(sub_start)
    balance = tuple(
        MetricBalance(sub.metric_names[j], float(sub.tolerances[j]), float(source_dev[j]), float(plan_dev))
        for j, plan_dev in enumerate(deviations(sub, best))
        if sub.balanced[j]
    )
    full = list(best) if rest is None else rest.lift(list(best))
    assignment = np.asarray(full, dtype=np.int64)
    figures = compute_figures(model, assignment, dmetric)
    violations = list(figures.violations)
    if options.max_moved_units is not None or options.max_moved_weight is not None:
        moved = figures.moved_units if options.max_moved_units is not None else figures.moved_weight
        limit = options.max_moved_units if options.max_moved_units is not None else options.max_moved_weight
        if limit is not None and moved > limit + 1e-9:
            violations.append(Violation("move_limit", f"{moved:g} moved, limit {limit:g}"))
    clock.model = sub
    _done(clock, list(best))
    return Plan(
        assignment=assignment,
        unit_ids=tuple(problem.unit_ids),
        feasible=not violations,
        violations=tuple(violations),
        infeasible_reasons=tuple(reasons),
        figures=figures,
        stopped_by=clock.stopped_by,
        elapsed_s=time.monotonic() - clock.start,
        seed=options.seed,
        set_aside=aside.territories,
        set_aside_units=aside.units,
        set_aside_reasons=aside.reasons,
        balance=balance,
        fell_back=fell_back,
        kept_source=kept_source,
        move_budget=budget,
    )


def _within_reach(model: Model, reasons: list[Violation]) -> Model:
    """The model that the search of a proven-infeasible request works on first: a tolerance that the proof shows no
    plan can meet is widened to the least max deviation the proof allows, so that the search reaches for the best
    compromise there can be rather than for a band that some territory cannot reach."""
    tolerances = model.tolerances.copy()
    for reason in reasons:
        if reason.least_deviation is not None and reason.metric in model.metric_names:
            j = model.metric_names.index(reason.metric)
            tolerances[j] = max(tolerances[j], reason.least_deviation * (1.0 + 1e-6))
    if np.array_equal(tolerances, model.tolerances):
        return model
    return replace(model, tolerances=tolerances)


def _tightened(model: Model, plan: list[int], options: Options, weights: Weights, dvals, clock: _Clock) -> list[int]:
    """The widened search's plan, searched again against the tolerances as requested: the territories that can be
    within them are pulled back in, while the one the proof concerns stays as near as it can be. The better of the
    two by the request's own measure. Virginia's counties at K=10 within 1%, where Arlington's group is at best
    5.09% off: the fresh starts against 1% left it 6.17% off; widened, then tightened, 5.09%. Over every state's
    counties at K=4, 8 and 12 (optimizer_proofs.py), 13 of the 51 proven requests got a plan nearer the target and
    none a farther one; 20 of the 34 with a known bound reached it, against 8."""
    clock.outer = (clock.outer[1], clock.outer[1])  # the run's percent does not go back
    rng = np.random.default_rng([options.seed, MAX_RESTARTS])
    search = Search(model, plan, weights, dvals)
    before = (round(search.violation, 12), _judged(search))
    found = _search(
        model, replace(options, effort=options.effort / PERTURBED_EFFORT), search, weights, rng, clock, hot=False
    )
    search.w = weights
    search.reset(found)
    return found if (round(search.violation, 12), _judged(search)) < before else plan


def _undo_moves(model: Model, plan: list[int], weights: Weights, dvals, deadline: float = math.inf) -> list[int]:
    """The plan with every moved unit that can go back to its initial territory sent back: a unit returns when it
    borders that territory, its leaving keeps its current territory connected, and every territory stays within its
    tolerances and caps. The search trades moves against compactness and aims inside the tolerances, so it can end
    with moves that balance no longer needs; each return is one unit less moved and nothing else gets worse. Past
    the deadline it stops where it is (every return made so far is kept)."""
    assert model.initial is not None
    search = Search(model, plan, weights, dvals)
    if search.violation > 1e-12:
        return plan  # balance not reached: the moves are all still wanted
    initial = model.initial.tolist()
    changed = True
    while changed and time.monotonic() < deadline:
        changed = False
        for u in range(model.n):
            if u % 256 == 0 and time.monotonic() > deadline:
                break
            a, home = search.assign[u], initial[u]
            if a == home or model.locked[u] >= 0 or search.size[a] <= 1:
                continue
            if not any(search.assign[v] == home for v in model.neighbors[u]):
                continue
            if not stays_connected(u, search.assign, model.neighbors):
                continue
            search.move(u, home)
            if search.violation > 1e-12:
                search.move(u, a)
            else:
                changed = True
    return list(search.assign)


def _restarts(
    model: Model, options: Options, weights: Weights, dvals, clock: _Clock, proven_infeasible: bool = False
) -> list[int]:
    """Restarts, each a full search, keeping the best plan.

    Small instances: the balanced plans' compactness is rugged (a few coarse units decide it), so after FRESH
    independent starts each restart perturbs the best plan so far (re-splits a few neighbouring territories with the
    balance loosened, iterated local search) and searches again from there, cooler. When PATIENCE such restarts in a
    row find nothing better, the territories seen and grown ones are recombined from the best plan: a better plan
    there and the restarts go on from it, else (once grown territories have paid, DIVERSIFY times at most) a fresh
    start brings more territories, else the run ends; after MAX_RESTARTS in any case. Large instances: one start, more
    (LARGE_STARTS in all) only while no plan is feasible. A request that the precheck proved infeasible gets the fresh
    starts only. Counts, not seconds, decide, so a seed gives one plan."""
    small = model.n <= SMALL
    limit = MAX_RESTARTS if small else LARGE_STARTS
    if proven_infeasible:
        # no plan can be feasible, so restarts that wait for one would run to the cap (Texas's counties, where Harris
        # alone is 20% over a territory's target, took the whole minute): the fresh starts give the compromise
        limit = min(limit, FRESH)
    run_options = replace(options, effort=options.effort / (FRESH_EFFORT if small else 2))
    perturbed_options = replace(options, effort=options.effort / (PERTURBED_EFFORT if small else 2))
    best: list[int] | None = None
    best_key = (math.inf, math.inf)
    stall = 0
    pool = TerritoryPool(model, weights.polsby_popper > 0)
    pool_seen = 0
    grown: dict[bytes, float] = {}  # territories grown from every unit, once the fresh starts are done
    regrown = 0  # the pool's size at the last recombination with the grown territories
    paid = False  # whether a recombination with grown territories has given a better plan
    diversify, diversified = False, 0  # whether the next restart starts fresh, and how many such have run
    scale: float | None = None  # the temperature scale, measured once: it is the layer's, not one plan's
    for r in range(limit):
        clock.outer = (100.0 * r / limit, 100.0 * (r + 1) / limit)
        run_rng = np.random.default_rng([options.seed, r])
        # fresh starts until one is feasible: perturbing an infeasible plan mostly finds its neighbours
        perturbed = best is not None and r >= FRESH and best_key[0] <= 1e-12 and not diversify
        diversify = False
        if perturbed:
            start = _perturb(model, best, weights, dvals, run_rng, PERTURB_PAIRS + stall)
        elif small:
            start = power_diagram_seed(model, run_rng, options.seed_restarts)
        else:
            start = _large_start(model, run_rng)
        clock.offer(start)
        clock.check()
        search = Search(model, start, weights, dvals)
        if scale is None:
            scale = search.typical_delta(run_rng)
        opts = perturbed_options if perturbed else run_options
        # a perturbed restart that ends out of balance is simply dropped (the best plan is balanced already), so it
        # gets one integer program: enough to save a plan that ends just out of balance
        harvest = pool if small else None
        plan = _search(
            model, opts, search, weights, run_rng, clock, hot=not perturbed, pool=harvest,
            mip_budget=PERTURBED_MIP_CALLS if perturbed else MIP_CALLS, scale=scale,
        )  # fmt: skip
        candidates = [plan]
        grow = small and r == FRESH - 1 and _grows_territories(model, pool, weights)
        found = None
        if small and (len(pool) > pool_seen or grow):
            pool_seen = len(pool)
            # the most compact plan made of territories seen so far, across restarts; once, after the fresh starts,
            # with territories grown from every unit too (pieces of basins no start reached)
            if grow:
                grown, regrown = _grown(model, pool, run_rng), len(pool)
            start = best if best is not None and best_key[0] <= 1e-12 else None
            found = pool.best_partition(_pool_seconds(clock), grown if grow else None, start)
            if found is not None:
                candidates.append(found[0])
        improved = False
        for cand in candidates:
            search.w = weights
            search.reset(cand)
            key = (round(search.violation, 12), _judged(search))
            if key < best_key:
                improved = improved or best is None or key < (best_key[0], best_key[1] - 1e-9)
                best, best_key = cand, key
        paid = paid or (grow and found is not None and best is found[0])
        clock.hold(best, best_key[0])
        feasible = best_key[0] <= 1e-12
        if not small and feasible:
            break
        if small and feasible:
            search.reset(best)
            pool.add(search)  # the best plan's territories, so that recombinations can start from it
        if feasible and r >= FRESH:
            stall = 0 if improved else stall + 1
            if stall < PATIENCE:
                continue
            # Before giving up, everything the restarts saw is recombined with the grown territories, from the best
            # plan: a better plan found there lies in another basin, which the restarts go on to explore
            if not grown or len(pool) == regrown:
                break
            regrown = len(pool)
            found = _recombined(model, pool, grown, best, run_rng, clock)
            key = best_key
            if found is not None:
                search.reset(found)
                key = (round(search.violation, 12), _judged(search))
            if key < (best_key[0], best_key[1] - 1e-9):
                pool.add(search)
                best, best_key, stall, paid = found, key, 0, True
                clock.hold(best, best_key[0])
            elif paid and diversified < DIVERSIFY:
                # Where the grown territories have paid, a fresh start brings territories of a basin no restart
                # reached, and the recombination that follows it can join them to the rest
                diversified += 1
                diversify, stall = True, PATIENCE - 1
            else:
                break
    assert best is not None
    return best


def _large_start(model: Model, rng) -> list[int]:
    """A large layer's start: a multilevel partitioner's plan (short borders, nearly balanced on the balanced metrics
    together, in a second or two), then balanced by diffusion to within the search's aim, which the annealing alone
    reaches slowly when hundreds of territories are off at once."""
    start = metis_seed(model, rng, METIS_RUNS)
    if not model.balanced.any():
        return start
    w, target = balance_weight(model)
    return diffuse(model, start, w, target, AIM * float(np.min(model.tolerances[model.balanced])))


def _recombined(
    model: Model, pool: TerritoryPool, grown: dict[bytes, float], best: list[int], rng, clock: _Clock
) -> list[int] | None:
    """The most compact plan made of the pool's territories, those grown after the fresh starts and as many grown
    afresh (each growth reaches different pieces of the basins), from the best plan; None when none is found."""
    extra = dict(grown)
    for units, cost in _grown(model, pool, rng).items():
        extra.setdefault(units, cost)
    found = pool.best_partition(_pool_seconds(clock), extra, best)
    return None if found is None else found[0]


def _pool_seconds(clock: _Clock) -> float:
    return max(0.1, min(POOL_SECONDS, clock.deadline - time.monotonic()))


def _grows_territories(model: Model, pool: TerritoryPool, weights: Weights) -> bool:
    """Grown territories serve Polsby-Popper (their cost) when every slot takes any territory and one metric is
    balanced (what growth aims at)."""
    balanced = any(np.isfinite(model.tolerances[j]) for j in pool.metrics)
    return weights.polsby_popper > 0 and model.has_shapes and pool.interchangeable and balanced


def _grown(model: Model, pool: TerritoryPool, rng) -> dict[bytes, float]:
    # a balanced metric first: growth stops once that one reaches its lower bound
    order = sorted(range(len(pool.metrics)), key=lambda q: not np.isfinite(model.tolerances[pool.metrics[q]]))
    metrics = [pool.metrics[q] for q in order]
    low, high = pool.low[order, 0], pool.high[order, 0]
    return grown_territories(model, low, high, metrics, int(rng.integers(2**31 - 1)))


def _judged(search: Search) -> float:
    """What restarts are compared on: the objective, with compactness as asked. The moment-of-inertia term that
    steers the search towards round shapes is left out when Polsby-Popper is what was asked for."""
    if search.w.polsby_popper == 0.0:
        return search.objective()
    pp = sum(1.0 - 4.0 * math.pi * a / (p * p) for a, p in zip(search.tarea, search.per, strict=True) if p > 0)
    return search.w.polsby_popper * pp + search.w.disruption * search.moved


def _perturb(model: Model, plan: list[int], weights: Weights, dvals, rng, pairs: int) -> list[int]:
    """The plan with a few pairs of neighbouring territories re-split for compactness, balance loosened."""
    search = Search(model, plan, weights, dvals)
    search.tol = [t * LOOSEN for t in search.tol]
    search.reset(plan)
    for _ in range(pairs):
        search.recombine(rng, math.inf, 8)
    return list(search.assign)


def _search(
    model: Model,
    options: Options,
    search: Search,
    weights: Weights,
    rng,
    clock: _Clock,
    hot: bool = True,
    pool: TerritoryPool | None = None,
    mip_budget: int = MIP_CALLS,
    scale: float | None = None,
) -> list[int]:
    """Anneal (single-unit moves + pair recombinations), repair balance (recombinations of the territories out of
    tolerance, then integer programming if they are not enough), then polish compactness without leaving the
    feasible region. Budgets are counts (not seconds) so a seed gives one plan."""
    disruptive = weights.disruption > 0
    rounds = max(10, int(options.effort * (60 if disruptive else 150)))
    burst = max(3000, 10 * model.n)
    # Pair recombinations per round: what moves balance and shape in big steps where single units are coarse (few
    # per territory), so coarse layers get up to one per territory per round and fine ones fewer.
    per_territory = model.n / model.k
    pairs = max(1, round(model.k * min(1.0, COARSE / per_territory)))
    trees = 4
    if scale is None:
        scale = search.typical_delta(rng)
    best = list(search.assign)
    best_key = (round(search.violation, 12), search.objective())

    def keep(plan: list[int], v: float | None = None, c: float | None = None) -> None:
        nonlocal best, best_key
        key = (round(search.violation if v is None else v, 12), search.objective() if c is None else c)
        if key < best_key:
            best, best_key = list(plan), key
            clock.offer(best)

    def anneal(temp: float) -> None:
        plan, v, c = search.anneal(burst, temp, temp, rng, clock.deadline, lambda f, b: None, search.max_moved)
        keep(plan, v, c)
        keep(search.assign)
        if pool is not None:
            pool.add(search)

    # 1. anneal: penalised balance (excess beyond tolerance + squared deviation), compactness, disruption.
    # The search and the repair aim at 80% of each tolerance: a margin so that the plan lands inside the real one.
    real_tolerances = list(search.tol)
    search.tol = [t * AIM if t != float("inf") else t for t in real_tolerances]
    clock.enter("search", 5.0, 70.0)
    # The squared-deviation pull moves weight across chains of territories; fine units (many per territory) need a
    # stronger pull to get past the compactness of the territories in between.
    pull = min(30.0, max(1.0, model.n / model.k / 6.0))
    search.reset(best)
    best_key = (round(search.violation, 12), search.objective())
    # a perturbed plan starts cooler: hot enough to reshape the perturbed territories, not to forget the rest
    t_start, t_end = (0.2 if hot else 0.1) * scale, 0.01 * scale
    # The balance weight adapts (up while the plan is out of tolerance, down while inside) so that the search keeps
    # to the edge of the feasible region, where the most compact balanced plans are, whatever the instance's scale.
    wb = weights.balance
    for r in range(rounds):
        clock.tick(r / rounds, best_key[0])
        search.w = Weights(wb, weights.polsby_popper, wb * pull, weights.inertia, weights.disruption)
        temp = t_start * (t_end / t_start) ** (r / rounds)
        if not disruptive or search.violation > 1e-12:
            for _ in range(pairs):
                clock.check()
                search.recombine(rng, temp, trees)
        anneal(temp)
        grow = search.violation > 1e-12
        wb = min(weights.balance * 1e3, wb * ADAPT) if grow else max(weights.balance * 0.1, wb / ADAPT)
    # 2. repair: recombine the territories out of tolerance with their neighbours; integer programming rounds of
    # simultaneous moves when that stalls; low-temperature annealing after each
    clock.enter("repair", 70.0, 85.0)
    search.w = Weights(weights.balance * 10, weights.polsby_popper, 0.0, weights.inertia, weights.disruption)
    search.reset(best)
    best_key = (round(search.violation, 12), search.objective())
    repair_rounds = 6 if options.effort >= 0.5 else 3
    mip_failed_on: list[int] | None = None
    mip_calls = 0
    nodes = QUICK_NODES
    for r in range(repair_rounds):
        if search.violation <= 1e-12:
            break
        clock.tick(r / repair_rounds, best_key[0])
        before = search.violation
        for _ in range(4 * pairs):
            if search.violation <= 1e-12:
                break
            clock.check()
            worst = search.worst_territory()
            around = search.neighbour_territories(worst)
            if around:
                search.recombine_pair(worst, around[int(rng.integers(len(around)))], rng, 0.0, 4 * trees)
        keep(search.assign)
        # the integer program is deterministic: a deep round that could not improve a plan would fail on it again
        if (
            mip_calls < mip_budget
            and search.violation > 1e-12
            and search.violation > 0.5 * before
            and search.assign != mip_failed_on
        ):
            mip_calls += 1
            moved = rebalance_round(search, max(0.1, min(MIP_SECONDS, clock.deadline - time.monotonic())), nodes)
            if not moved:
                if nodes == DEEP_NODES:
                    mip_failed_on = list(search.assign)
                nodes = DEEP_NODES  # a quick round that found nothing is followed by a deep one
            keep(search.assign)
        anneal(0.01 * scale)
    # 3. polish: compactness, balance now all but hard (against the real tolerances)
    search.tol = real_tolerances
    clock.enter("polish", 85.0, 100.0)
    # Polsby-Popper alone when it is what was asked: the inertia term only steers the earlier stages towards round
    # shapes, and here it would trade away the measure asked for
    inertia = 0.0 if weights.polsby_popper > 0 else weights.inertia
    search.w = Weights(weights.balance * 100, weights.polsby_popper, 0.0, inertia, weights.disruption)
    search.reset(best)
    best_key = (round(search.violation, 12), search.objective())
    # polishing inside the feasible region is where compactness is won on large layers: there it gets the longest
    # schedule (small layers' balanced plans are isolated, see POLISH_SMALL)
    polish = max(5, (POLISH_SMALL if model.n <= SMALL else POLISH) * rounds)
    for r in range(polish):
        clock.tick(r / polish, best_key[0])
        temp = 0.02 * scale * (0.05) ** (r / polish)
        if not disruptive:
            # Half the re-splits take the best cut of one random tree (near a uniformly drawn split) at a hotter
            # temperature: the best cut of many trees mostly restores the same split, a drawn one explores the
            # balanced plans around it. The best plan seen is kept, so exploring costs nothing in the result.
            recom_temp = RECOM_TEMP * scale * 0.01 ** (r / polish)
            for _ in range(pairs):
                clock.check()
                if rng.random() < 0.5:
                    search.recombine(rng, recom_temp, 1, exact=True)
                else:
                    search.recombine(rng, temp, trees)
        anneal(temp)
    return best


def _better(model: Model, current: list[int], candidate: list[int], search: Search) -> list[int]:
    """The plan with the smaller balance violation, then the smaller cost, under the search's current weights."""
    scored = []
    for plan in (current, candidate):
        search.reset(plan)
        scored.append((round(search.violation, 12), search.objective()))
    choice = candidate if scored[1] <= scored[0] else current
    search.reset(choice)
    return list(choice)


__all__ = ["MetricBalance", "Plan", "optimize"]
