"""The territory design job: read the units, adjacency and source alignment from geo-service and the accounts
and reps from this service, run the optimizer in a worker thread with progress, write the plan as a new draft
alignment in geo-service, and report its real figures.

From a source alignment with the plan's territories, the search starts from it and moves in proportion to its
imbalance (unless the request sets its own limit, or asks to ``redesign`` from scratch), and the plan is never worse
than the source on any balanced metric over the territories the request can balance: a territory holding a unit
heavier than a territory may hold is kept as it is and named in the result (``set_aside``).

An infeasible request (e.g. one unit heavier than a territory may hold) still succeeds: the best plan found is
written as a draft and the result says ``feasible: false`` with the reasons. A malformed one fails the job with
the reason. A cancelled job writes nothing. The job as a whole keeps to the request's time limit: the optimizer gets
what loading left of it, less a reserve for writing the draft.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from territory_shared.jobs import JobCancelled, JobFailed, Progress

from assignment_service.domain.design import (
    DesignRequest,
    Units,
    account_sums,
    closest_labels,
    fill_white_space,
    optimizer_metrics,
    summarise,
)
from assignment_service.domain.geography import AlignmentInfo
from assignment_service.use_cases.ports import DesignInputs, GeoClient

if TYPE_CHECKING:
    from territory_optimizer import Problem
    from territory_optimizer import Progress as OptimizerProgress
    from territory_optimizer.problem import Disruption

log = logging.getLogger(__name__)

LOAD, SEARCH, WRITE = (0.0, 15.0), (15.0, 92.0), (92.0, 99.0)
REPORT_EVERY_S = 0.3
# Seconds kept back from the request's time limit for writing the draft (about 1.5 s for 3,000 units), and the
# share of the limit the optimizer gets at least however long loading took.
WRITE_RESERVE_S = 2.0
MIN_SEARCH_SHARE = 0.5


async def run_design(
    geo: GeoClient,
    inputs: DesignInputs,
    tenant_id: str,
    request: DesignRequest,
    progress: Progress,
) -> dict[str, Any]:
    # Imported here, off the service's start-up path (the optimizer pulls in scipy).
    from territory_optimizer import Problem, Rep, unit_shapes

    started = time.monotonic()
    await progress("loading units", LOAD[0] + 1)
    source = None
    if request.source_alignment_id:
        source = await geo.alignment(tenant_id, request.source_alignment_id)
        if source is None:
            raise JobFailed(f"Alignment {request.source_alignment_id} no longer exists.", field="alignment_id")
    layer_id = source.layer_id if source else request.layer_id
    sales_force = source.sales_force if source else request.sales_force
    assert layer_id and sales_force
    features = await geo.unit_features(tenant_id, layer_id)
    edge_ids = await geo.adjacency(tenant_id, layer_id)
    units = await asyncio.to_thread(_units, features)
    await progress("loading the source alignment", LOAD[0] + 5)
    source_code_of: dict[str, str | None] = {}
    source_leaves: list[str] = []
    locked_codes: dict[str, str | None] = {}
    if source:
        territories = await geo.territories(tenant_id, source.id)
        parents = {t["parent_id"] for t in territories if t.get("parent_id")}
        code_by_id = {t["id"]: t["code"] for t in territories}
        source_leaves = sorted(t["code"] for t in territories if t["id"] not in parents)
        for m in await geo.memberships(tenant_id, source.id):
            code = code_by_id.get(m["territory_id"]) if m["territory_id"] else None
            source_code_of[m["unit_id"]] = code
            if m["locked"] and request.keep_locked:
                locked_codes[m["unit_id"]] = code

    await progress("aggregating accounts", LOAD[0] + 8)
    accounts = await inputs.account_points(tenant_id)
    lon = np.array([a.lon for a in accounts], dtype=float)
    lat = np.array([a.lat for a in accounts], dtype=float)
    potential = np.nan_to_num(np.array([a.potential for a in accounts], dtype=float))
    workload = np.array(
        [
            a.workload_hours if a.workload_hours is not None else (a.visits_per_year or 0.0) * request.hours_per_visit
            for a in accounts
        ],
        dtype=float,
    )
    sums, outside = await asyncio.to_thread(account_sums, units, lon, lat, potential, workload)

    # Territories: the reps', K new ones, or the source's leaves.
    reps = None
    if request.use_reps:
        holders = await inputs.sales_force_reps(tenant_id, sales_force, datetime.now(UTC).date())
        if not holders:
            raise JobFailed(f"Sales force {sales_force!r} has no rep holding a territory: nothing to design for.")
        codes = [r.territory_code for r in holders]
        homes = units.locate(
            np.array([r.home_lon if r.home_lon is not None else np.nan for r in holders]),
            np.array([r.home_lat if r.home_lat is not None else np.nan for r in holders]),
        )
        balanced = {g.name for g in request.metrics if g.tolerance is not None}
        capacities = "workload_hours" in balanced and all(r.capacity_hours for r in holders)
        reps = [
            Rep(r.external_id, int(h) if h >= 0 else None, r.capacity_hours if capacities else None)
            for r, h in zip(holders, homes.tolist(), strict=True)
        ]
        capacity_metric = "workload_hours" if capacities else None
    elif request.k is None or (source is not None and request.k == len(source_leaves)):
        codes = list(source_leaves)
        capacity_metric = None
    else:
        codes = [f"T{i + 1:02d}" for i in range(request.k)]
        capacity_metric = None
    if not codes:
        raise JobFailed("The source alignment has no territories: give k.", field="k")
    index_of = {c: i for i, c in enumerate(codes)}

    locked: dict[int, int] = {}
    for unit_id, code in sorted(locked_codes.items()):
        if code not in index_of:
            raise JobFailed(
                f"Unit {unit_id} is locked in {code or 'white space'}, which the plan's territories do not include: "
                "unlock it, or design the source's own territories.",
                field="keep_locked",
            )
        locked[units.index[unit_id]] = index_of[code]

    initial = None
    source_codes = None
    start = np.full(len(units.ids), -1, dtype=np.int64)
    if source:
        source_codes = [source_code_of.get(u) for u in units.ids]
        start = np.array([index_of.get(c, -1) if c else -1 for c in source_codes], dtype=np.int64)
        pairs = np.array([(units.index[a], units.index[b]) for a, b in edge_ids], dtype=np.int64).reshape(-1, 2)
        # Disruption is measured against the source's territories; new ones (another k) have no starting point.
        initial = fill_white_space(start, pairs) if (start >= 0).any() else None
    wants_disruption = request.minimise_disruption or request.max_moved_units is not None
    if wants_disruption or request.max_moved_share is not None:
        if initial is None:
            raise JobFailed(
                "A disruption limit needs the plan to keep the source's territories: omit k, or give the source's "
                f"number of territories ({len(source_leaves)}).",
                field="max_disruption",
            )

    await progress("measuring shapes", LOAD[1] - 2)
    edges = np.array(
        [(units.index[a], units.index[b]) for a, b in edge_ids if a in units.index and b in units.index],
        dtype=np.int64,
    ).reshape(-1, 2)
    shapes = await asyncio.to_thread(unit_shapes, units.shapes, "EPSG:4326", edges=edges)
    metrics = optimizer_metrics(request, units, sums)
    max_weight = None
    if request.max_moved_share is not None:
        max_weight = request.max_moved_share * float(np.sum(metrics[0].values))
    explicit = request.minimise_disruption or request.max_moved_units is not None or max_weight is not None
    problem = Problem(
        unit_ids=units.ids,
        metrics=metrics,
        edges=shapes.edges,
        k=None if reps else len(codes),
        reps=reps,
        capacity_metric=capacity_metric,
        geometry=shapes.geometry,
        locked=locked,
        initial=initial,
    )
    disruption: Disruption = "none"
    if initial is not None and explicit:
        disruption = "weight" if max_weight is not None else "units"
    left = request.time_limit_s - (time.monotonic() - started) - WRITE_RESERVE_S
    limit = max(MIN_SEARCH_SHARE * request.time_limit_s, left)
    plan = await _optimize(problem, request, disruption, max_weight, limit, progress)
    if initial is not None and request.redesign and not locked and reps is None:
        codes = closest_labels(plan.assignment, start, codes)

    await progress("writing the draft", WRITE[0], "writing the plan as a new draft alignment")
    if progress.cancel_requested.is_set():
        raise JobCancelled()
    draft = await _write_draft(
        geo, tenant_id, request, source, layer_id, sales_force, codes, source_leaves, units, plan, sorted(locked_codes)
    )
    summary = summarise(plan, codes, request, source_codes, sums["account_count"])
    return {
        "draft_alignment_id": draft["id"],
        "draft_version": draft["version"],
        "source_alignment_id": source.id if source else None,
        "layer_id": layer_id,
        "sales_force": sales_force,
        "reps": [r.id for r in reps] if reps else None,
        "locked_units": len(locked),
        "accounts": {"located": int(len(accounts) - outside), "outside_every_unit": outside},
        **summary,
    }


def _units(features: list[dict[str, Any]]) -> Units:
    ids = [str(f["properties"].get("unit_id", f.get("id"))) for f in features]
    shapes = np.array([shapely.from_geojson(json.dumps(f["geometry"])) for f in features], dtype=object)
    attributes: list[Mapping[str, Any]] = [
        {k: v for k, v in f["properties"].items() if k != "unit_id"} for f in features
    ]
    return Units(ids, shapes, attributes)


async def _optimize(
    problem: Problem,
    request: DesignRequest,
    disruption: Disruption,
    max_weight: float | None,
    time_limit_s: float,
    progress: Progress,
) -> Any:
    """The optimizer in a worker thread; its progress reaches the job row a few times a second, never going back."""
    from territory_optimizer import CancelToken, Options

    loop = asyncio.get_running_loop()
    latest: list[OptimizerProgress] = []
    token = CancelToken()

    def on_progress(p: OptimizerProgress) -> None:
        loop.call_soon_threadsafe(latest.append, p)

    options = Options(
        seed=request.seed,
        time_limit_s=time_limit_s,
        compactness=request.compactness,
        disruption=disruption,
        max_moved_units=request.max_moved_units if problem.initial is not None else None,
        max_moved_weight=max_weight if problem.initial is not None else None,
        moves="free" if request.redesign else "proportionate",
        progress=on_progress,
        cancel=token,
    )
    reached = [SEARCH[0]]
    task = asyncio.create_task(asyncio.to_thread(_run_optimizer, problem, options))
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=REPORT_EVERY_S)
            if latest:
                p = latest[-1]
                latest.clear()
                await _report(progress, p, reached)
            if progress.cancel_requested.is_set():
                token.cancel()
        plan = task.result()
    except asyncio.CancelledError:
        token.cancel()  # the service is stopping: let the thread end
        raise
    if progress.cancel_requested.is_set():
        raise JobCancelled()
    return plan


def _run_optimizer(problem: Problem, options: Any) -> Any:
    from territory_optimizer import ProblemError, optimize

    try:
        return optimize(problem, options)
    except (ProblemError, ValueError) as exc:
        raise JobFailed(f"The optimizer refused the request: {exc}") from exc


async def _report(progress: Progress, p: OptimizerProgress, reached: list[float]) -> None:
    lo, hi = SEARCH
    best = None if p.best_max_deviation is None else round(p.best_max_deviation * 100, 3)
    note = f"best max deviation so far {best:.2f}%" if best is not None else "no plan yet"
    reached[0] = max(reached[0], lo + (hi - lo) * p.percent / 100.0)
    await progress(
        f"optimizing: {p.stage}",
        reached[0],
        f"{note} after {p.elapsed_s:.1f} s",
        {"optimizer_stage": p.stage, "best_max_deviation_pct": best, "elapsed_s": round(p.elapsed_s, 2)},
    )


async def _write_draft(
    geo: GeoClient,
    tenant_id: str,
    request: DesignRequest,
    source: AlignmentInfo | None,
    layer_id: str,
    sales_force: str,
    codes: list[str],
    source_leaves: list[str],
    units: Units,
    plan: Any,
    locked_units: list[str],
) -> dict[str, Any]:
    """A copy of the source when the plan keeps its territories (hierarchy, locks and all), else a new draft
    on the layer, where the units the plan kept locked are locked again; then every unit put in its planned
    territory in one versioned write."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
    name = request.name or f"Optimized {len(codes)} territories {stamp}"
    copy_from = source.id if source is not None and sorted(codes) == source_leaves else None
    same = copy_from is not None
    if copy_from is not None:
        draft = await geo.create_draft(tenant_id, name, sales_force, copy_from=copy_from)
    else:
        draft = await geo.create_draft(tenant_id, name, sales_force, layer_id=layer_id)
    rows = [(u, codes[t]) for u, t in zip(units.ids, plan.assignment.tolist(), strict=True)]
    try:
        written = await geo.assign_units(tenant_id, draft["id"], draft["version"], rows)
        if locked_units and not same:
            written = await geo.lock_units(tenant_id, draft["id"], written["version"], locked_units)
    except Exception:
        await geo.delete_draft(tenant_id, draft["id"])
        raise
    return {**draft, "version": written["version"]}
