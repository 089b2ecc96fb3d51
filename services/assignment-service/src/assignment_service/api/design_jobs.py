"""``POST /v1/design-jobs``: design territories with the optimizer, as a job whose result is a new draft alignment.

Progress and the outcome are read at ``GET /v1/jobs/{id}``; ``POST /v1/jobs/{id}/cancel`` stops it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from territory_shared.api.tenancy import TenantId
from territory_shared.jobs import Progress

from assignment_service.api.deps import Geo, Jobs, job_location
from assignment_service.db.design_inputs import DesignInputReader
from assignment_service.domain.design import ACCOUNT_METRICS, DesignRequest, MetricGoal
from assignment_service.use_cases.design import run_design

DESCRIPTION = """Runs the optimizer as a job and writes its plan as a new draft alignment.

**From a source alignment** (`alignment_id`, keeping its territories), the default is to rebalance it in proportion
to its imbalance: the search starts from the source and the weight it moves (of the first balanced metric) is kept
within about three times what must change territory at least for every territory to be within tolerance, plus a
couple of units. `max_disruption` sets a limit of your own instead; `minimise_disruption` moves as few units as
possible; `redesign: true` searches from scratch, moving as much as it likes.

Either way the plan is **never worse than the source** on any balanced metric's max deviation, over the territories
the request can balance: a territory holding a unit heavier than a territory may hold (alone above target x
(1 + tolerance)) is kept as it is, and the others are balanced among themselves (their targets are what is left).
The result names those territories and units (`set_aside`), compares source and plan over the rest
(`against_source`), and reports `units_moved` and `accounts_moved`. When the search finds nothing better, the draft
is the source unchanged and `against_source.outcome` says so. The job keeps to `time_limit_s` (loading and writing
the draft included, give or take a second or two).
"""

router = APIRouter(prefix="/v1/design-jobs", tags=["territory design"])


class MetricGoalBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metric: str = Field(
        min_length=1,
        max_length=200,
        description="account_count, account_potential or workload_hours (summed from the accounts in each unit), "
        "or a numeric attribute of the layer's units (e.g. population)",
        examples=["account_potential"],
    )
    tolerance: float | None = Field(
        default=0.05, ge=0, lt=1, description="Balance within +- this fraction of the target; null: not balanced"
    )
    min_total: float | None = Field(default=None, ge=0, description="Hard floor of each territory's total")
    max_total: float | None = Field(default=None, gt=0, description="Hard ceiling of each territory's total")


class MaxDisruption(BaseModel):
    model_config = ConfigDict(extra="forbid")

    units: int | None = Field(default=None, ge=0, description="At most this many units change territory")
    share: float | None = Field(
        default=None, ge=0, le=1, description="At most this share of `metric`'s total changes territory"
    )
    metric: str | None = Field(default=None, description="The balanced metric `share` is measured on (the first one)")


class DesignJobCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "alignment_id": "<active or draft alignment id>",
                    "k": 8,
                    "metrics": [
                        {"metric": "account_potential", "tolerance": 0.05},
                        {"metric": "account_count", "tolerance": 0.10},
                    ],
                    "contiguity": True,
                    "time_limit_s": 30,
                    "seed": 1,
                }
            ]
        },
    )

    alignment_id: str | None = Field(
        default=None, description="The source alignment (active or draft): its layer, territories, locks"
    )
    layer_id: str | None = Field(default=None, description="Without a source alignment: the unit layer")
    sales_force: str | None = Field(default=None, max_length=100, description="With layer_id: the sales force")
    name: str | None = Field(default=None, min_length=1, max_length=200, description="Name of the draft")
    k: int | None = Field(
        default=None, ge=1, le=10_000, description="Number of territories; omitted: the source's territories"
    )
    use_reps: bool = Field(
        default=False,
        description="One territory per rep holding a territory of the sales force: their homes stay in their "
        "territory, and their capacities are the workload targets when workload_hours is balanced",
    )
    metrics: Annotated[list[MetricGoalBody], Field(min_length=1, max_length=10)] = Field(
        default_factory=lambda: [MetricGoalBody(metric="account_potential", tolerance=0.05)]
    )
    contiguity: bool = Field(
        default=True,
        description="Count a territory in pieces as a missed constraint (the optimizer keeps them in one piece)",
    )
    compactness: Literal["polsby_popper", "inertia", "none"] = "polsby_popper"
    keep_locked: bool = Field(default=True, description="Units locked in the source stay in their territory")
    minimise_disruption: bool = Field(default=False, description="Move as few units as possible from the source")
    max_disruption: MaxDisruption | None = None
    redesign: bool = Field(
        default=False,
        description="From a source alignment: redesign from scratch, moving units freely. By default the search "
        "starts from the source and moves in proportion to its imbalance. Never worse than the source either way",
    )
    time_limit_s: float = Field(default=30, gt=0, le=600)
    seed: int = Field(default=0, ge=0)
    hours_per_visit: float = Field(default=1.0, gt=0, description="Workload of an account given only its visits")


class DesignJobAccepted(BaseModel):
    job_id: str
    status: str


def _invalid(field: str, reason: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body", field), "msg": reason, "type": "value_error"}])


async def _validated(body: DesignJobCreate, tenant: str, geo: Geo) -> DesignRequest:
    """Cross-field checks and the ones that need geo-service (the source exists, the metrics are known)."""
    if (body.alignment_id is None) == (body.layer_id is None):
        raise _invalid("alignment_id", "give alignment_id (the source alignment) or layer_id, not both")
    if body.layer_id is not None and not body.sales_force:
        raise _invalid("sales_force", "layer_id needs the sales force the draft is for")
    if body.use_reps and body.k is not None:
        raise _invalid("k", "give k or use_reps, not both")
    if body.k is None and not body.use_reps and body.alignment_id is None:
        raise _invalid("k", "without a source alignment, give k or use_reps")
    names = [m.metric for m in body.metrics]
    if len(set(names)) != len(names):
        raise _invalid("metrics", "each metric once")
    if not any(m.tolerance is not None for m in body.metrics):
        raise _invalid("metrics", "at least one metric needs a tolerance (something to balance)")
    for i, m in enumerate(body.metrics):
        if m.min_total is not None and m.max_total is not None and m.min_total > m.max_total:
            raise _invalid(f"metrics.{i}.min_total", "above max_total")
    d = body.max_disruption
    if d is not None:
        if (d.units is None) == (d.share is None):
            raise _invalid("max_disruption", "give units or share, not both")
        if body.alignment_id is None:
            raise _invalid("max_disruption", "disruption is measured against a source alignment: give alignment_id")
        balanced = [m.metric for m in body.metrics if m.tolerance is not None]
        if d.metric is not None and d.metric not in balanced:
            raise _invalid("max_disruption.metric", f"not one of the balanced metrics {balanced}")
    if body.redesign and (d is not None or body.minimise_disruption):
        raise _invalid("redesign", "a redesign moves units freely: drop max_disruption and minimise_disruption")
    if body.minimise_disruption and body.alignment_id is None:
        raise _invalid("minimise_disruption", "disruption is measured against a source alignment: give alignment_id")

    layer_id = body.layer_id
    if body.alignment_id is not None:
        source = await geo.alignment(tenant, body.alignment_id)
        if source is None:
            raise _invalid("alignment_id", f"alignment {body.alignment_id} does not exist")
        if source.state == "archived":
            raise _invalid("alignment_id", "an archived alignment cannot be the source: use an active or draft one")
        layer_id = source.layer_id
    assert layer_id is not None
    layer = await geo.layer(tenant, layer_id)
    if layer is None:
        raise _invalid("layer_id", f"layer {layer_id} does not exist")
    known = set(ACCOUNT_METRICS) | set(layer.get("attributes") or [])
    for i, m in enumerate(body.metrics):
        if m.metric not in known:
            raise _invalid(f"metrics.{i}.metric", f"unknown metric {m.metric!r}; known: {sorted(known)}")
    if body.k is not None and body.k > int(layer.get("unit_count") or 0):
        raise _invalid("k", f"{body.k} territories for {layer.get('unit_count')} units")
    return DesignRequest(
        source_alignment_id=body.alignment_id,
        layer_id=layer_id,
        sales_force=body.sales_force,
        name=body.name,
        k=body.k,
        use_reps=body.use_reps,
        metrics=tuple(MetricGoal(m.metric, m.tolerance, m.min_total, m.max_total) for m in body.metrics),
        contiguity=body.contiguity,
        compactness=body.compactness,
        keep_locked=body.keep_locked,
        max_moved_units=d.units if d else None,
        max_moved_share=d.share if d else None,
        disruption_metric=d.metric if d else None,
        minimise_disruption=body.minimise_disruption,
        redesign=body.redesign,
        time_limit_s=body.time_limit_s,
        seed=body.seed,
        hours_per_visit=body.hours_per_visit,
    )


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DesignJobAccepted,
    summary="Design balanced, contiguous, compact territories into a new draft alignment (a job with progress)",
    description=DESCRIPTION,
)
async def create_design_job(
    body: DesignJobCreate, request: Request, response: Response, tenant: TenantId, geo: Geo, jobs: Jobs
) -> DesignJobAccepted:
    design = await _validated(body, tenant, geo)
    inputs = DesignInputReader(request.app.state.runtime.sessions)

    async def work(progress: Progress) -> dict[str, Any]:
        return await run_design(geo, inputs, tenant, design, progress)

    job_id = await jobs.submit(tenant, "territory-design", work)
    response.headers["Location"] = job_location(request, job_id)
    return DesignJobAccepted(job_id=job_id, status="queued")
