"""A run's clock: its deadline and cancellation, the best plan so far, and the progress reports."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from territory_optimizer.model import Model
from territory_optimizer.plan import StoppedBy
from territory_optimizer.problem import Options, Progress
from territory_optimizer.search import Stop


class Clock:
    """The run's deadline and cancellation, its stage and percent, and the best plan to report: the current
    search's, or the restarts' once they hold one."""

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
            self.best_dev = max_deviation(self.model, plan)
        lo, hi = self.span
        inner = lo + (hi - lo) * min(1.0, frac)
        percent = self.outer[0] + (self.outer[1] - self.outer[0]) * inner / 100.0
        # a later stage or restart may begin below where the last one ended (a restart's seed, the tightening of a
        # widened search): the run's percent stays where it was until it catches up
        self.last_percent = max(self.last_percent, min(100.0, percent))
        cb(Progress(self.stage, self.last_percent, self.best_dev, self.best_v, now - self.start))


def max_deviation(model: Model, assign: list[int]) -> float:
    cols = np.flatnonzero(model.balanced)
    if len(cols) == 0:
        return 0.0
    lab = np.asarray(assign)
    worst = 0.0
    for j in cols:
        totals = np.bincount(lab, weights=model.values[:, j], minlength=model.k)
        worst = max(worst, float(np.max(np.abs(totals - model.targets[:, j]) / model.targets[:, j])))
    return worst


def until(clock: Clock, deadline: float, run: Callable[[], list[int]]) -> list[int]:
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


def finish(clock: Clock, plan: list[int]) -> None:
    clock.stage, clock.span, clock.outer = "done", (100.0, 100.0), (0.0, 100.0)
    clock.best_plan = plan
    clock.worse = None
    clock.report(1.0, force=True)
