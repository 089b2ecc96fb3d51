"""Mixed-integer programs through HiGHS (highspy), the solver behind the balance repair and the pool recombination.

highspy directly rather than scipy.optimize.milp: the HiGHS that SciPy bundles solved our small repair programs
5 to 7 times slower (and printed debug lines to stdout); highspy's own build has neither problem, and exposes the
node limit that keeps a seed's result the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from scipy.sparse import csc_matrix, spmatrix

try:  # the core class: the Python wrapper's constructor prints a banner before any option can silence it
    from highspy._core import HighsLp, HighsModelStatus, HighsSolution, HighsVarType, MatrixFormat, _Highs
    from highspy._core.cb import HighsCallbackType
except ImportError:  # pragma: no cover - a future highspy that moves it
    from highspy import Highs as _Highs
    from highspy import HighsLp, HighsModelStatus, HighsSolution, HighsVarType, MatrixFormat
    from highspy import cb as _cb

    # the same class the first branch imports, bound to the same name (mypy sees the first branch's import)
    HighsCallbackType = _cb.HighsCallbackType  # type: ignore[misc]

if TYPE_CHECKING:
    from highspy._core.cb import HighsCallbackInput, HighsCallbackOutput

INF = 1e30  # HiGHS's infinity
PROBING_RULE = 1 << 15  # presolve_rule_off's bit for probing (HiGHS 1.16 names it in its log)


def solve(
    cost: np.ndarray,
    matrix: spmatrix,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    col_lower: np.ndarray,
    col_upper: np.ndarray,
    integer: np.ndarray,
    *,
    time_limit: float,
    node_limit: int,
    gap: float = 1e-4,
    relax_first: bool = False,
    work_limit: int | None = None,
    probing: bool = True,
    start: np.ndarray | None = None,
) -> np.ndarray | None:
    """Minimise cost @ x subject to row_lower <= matrix @ x <= row_upper and the column bounds, the columns where
    `integer` is true integral. Returns the best solution found within the limits, None when there is none.

    `relax_first` solves the linear relaxation first and returns its solution when it is integral already (then it
    is optimal): set partitioning's relaxation mostly is, and an LP costs a fraction of a MIP's setup.

    `work_limit` stops the branch and cut after that many of HiGHS's interrupt checks. The node limit does not
    bound the root (cuts, heuristics), and a limit in seconds would make the answer depend on the machine's load;
    HiGHS is deterministic, so a count of its checks is a measure of work that gives the same answer every time.

    `probing=False` switches off presolve's probing, which no callback interrupts and no work limit bounds.

    `start` is a feasible solution to begin from: the answer is never worse than it, and the search prunes against
    it from the first node (under a work limit the program may otherwise end with no solution at all)."""
    integer = np.asarray(integer, dtype=bool)
    if relax_first and integer.any():
        x = solve(
            cost, matrix, row_lower, row_upper, col_lower, col_upper, np.zeros_like(integer),
            time_limit=time_limit, node_limit=node_limit, gap=gap,
        )  # fmt: skip
        if x is not None and np.all(np.abs(x[integer] - np.round(x[integer])) <= 1e-6):
            x[integer] = np.round(x[integer])
            return x
    highs = _model(cost, matrix, row_lower, row_upper, col_lower, col_upper, integer, time_limit)
    if start is not None:
        given = HighsSolution()
        given.col_value = np.asarray(start, dtype=float).tolist()
        given.value_valid = True
        highs.setSolution(given)
    _run(highs, node_limit, gap, work_limit, probing)
    if highs.getInfo().primal_solution_status != 2:  # 2: a feasible solution exists
        return None
    return np.asarray(highs.getSolution().col_value)


def optimum(
    cost: np.ndarray,
    matrix: spmatrix,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    col_lower: np.ndarray,
    col_upper: np.ndarray,
    integer: np.ndarray,
    *,
    time_limit: float,
    node_limit: int,
    work_limit: int | None = None,
) -> tuple[Literal["optimal", "infeasible", "unknown"], np.ndarray | None]:
    """The same program as `solve`, for proofs: ("optimal", x) when x is proven optimal, ("infeasible", None) when
    proven to have no solution, ("unknown", x or None) when a limit ends the search first."""
    integer = np.asarray(integer, dtype=bool)
    highs = _model(cost, matrix, row_lower, row_upper, col_lower, col_upper, integer, time_limit)
    _run(highs, node_limit, 0.0, work_limit, True)
    status = highs.getModelStatus()
    if status == HighsModelStatus.kInfeasible:
        return "infeasible", None
    x = np.asarray(highs.getSolution().col_value) if highs.getInfo().primal_solution_status == 2 else None
    return ("optimal" if status == HighsModelStatus.kOptimal else "unknown"), x


def _run(highs: _Highs, node_limit: int, gap: float, work_limit: int | None, probing: bool) -> None:
    highs.setOptionValue("mip_max_nodes", int(node_limit))
    highs.setOptionValue("mip_rel_gap", float(gap))
    # Restarting the search after root presolve tripled the time of our small repair programs for the same answers
    highs.setOptionValue("mip_allow_restart", False)
    if not probing:
        highs.setOptionValue("presolve_rule_off", PROBING_RULE)
    if work_limit is not None:
        checks = 0

        def interrupt(
            _kind: HighsCallbackType, _message: str, _out: HighsCallbackOutput, data_in: HighsCallbackInput, _user: Any
        ) -> None:
            nonlocal checks
            checks += 1
            if checks > work_limit:
                data_in.user_interrupt = True

        highs.setCallback(interrupt, None)
        highs.startCallback(HighsCallbackType.kCallbackMipInterrupt)
    highs.run()


def relaxation_duals(
    cost: np.ndarray,
    matrix: spmatrix,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    *,
    time_limit: float,
) -> np.ndarray | None:
    """The row duals of the linear program min cost @ x, row_lower <= matrix @ x <= row_upper, 0 <= x <= 1: a
    column's reduced cost is cost - matrix.T @ duals. None when no optimum is found in time."""
    n = matrix.shape[1]
    highs = _model(cost, matrix, row_lower, row_upper, np.zeros(n), np.ones(n), np.zeros(n, dtype=bool), time_limit)
    highs.run()
    if highs.getInfo().dual_solution_status != 2:
        return None
    return np.asarray(highs.getSolution().row_dual)


def _model(
    cost: np.ndarray,
    matrix: spmatrix,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    col_lower: np.ndarray,
    col_upper: np.ndarray,
    integer: np.ndarray,
    time_limit: float,
) -> _Highs:
    """A silent HiGHS instance holding the program, ready to run."""
    a = csc_matrix(matrix)
    lp = HighsLp()
    lp.num_col_ = a.shape[1]
    lp.num_row_ = a.shape[0]
    lp.col_cost_ = np.asarray(cost, dtype=float)
    lp.col_lower_ = np.clip(np.asarray(col_lower, dtype=float), -INF, INF)
    lp.col_upper_ = np.clip(np.asarray(col_upper, dtype=float), -INF, INF)
    lp.row_lower_ = np.clip(np.asarray(row_lower, dtype=float), -INF, INF)
    lp.row_upper_ = np.clip(np.asarray(row_upper, dtype=float), -INF, INF)
    lp.a_matrix_.format_ = MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr
    lp.a_matrix_.index_ = a.indices
    lp.a_matrix_.value_ = a.data.astype(float)
    if integer.any():
        lp.integrality_ = [HighsVarType.kInteger if q else HighsVarType.kContinuous for q in integer]
    highs = _Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("time_limit", float(max(0.01, time_limit)))
    highs.passModel(lp)
    return highs
