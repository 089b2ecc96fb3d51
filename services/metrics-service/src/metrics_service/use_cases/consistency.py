"""The consistency check: the projection's figures per territory against assignment-service's own records.

For the sales force's active alignment, each territory's account count, account potential and primary rep as
metrics-service counts them, and the accounts no territory holds, are compared with what assignment-service
answers from its assignments and roster. Every difference is named; the count of differences is a Prometheus
gauge, so an operator sees drift without asking.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from prometheus_client import Gauge
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from metrics_service.db.records import AlignmentProjectionRecord
from metrics_service.domain.sources import AssignmentRefused, AssignmentUnavailable
from metrics_service.use_cases.models import ModelCache
from metrics_service.use_cases.ports import AssignmentClient

log = logging.getLogger(__name__)
DIFFERENCES = Gauge(
    "territory_consistency_differences",
    "Differences between metrics-service's projection and assignment-service's ownership, at the last check",
    ["tenant", "sales_force"],
)
# Sums of floats added in another order differ in the last digits; a real difference is an account's worth.
REL_TOLERANCE = 1e-6


@dataclass
class Consistency:
    sales_force: str
    alignment_id: str | None
    checked_at: str
    territories_checked: int
    differences: list[dict[str, Any]] = field(default_factory=list)
    codes_outside_alignment: list[str] = field(default_factory=list)

    @property
    def consistent(self) -> bool:
        return not self.differences


async def active_alignment(session: AsyncSession, tenant_id: str, sales_force: str) -> AlignmentProjectionRecord | None:
    q = select(AlignmentProjectionRecord).where(
        AlignmentProjectionRecord.tenant_id == tenant_id,
        AlignmentProjectionRecord.sales_force == sales_force,
        AlignmentProjectionRecord.state == "active",
        AlignmentProjectionRecord.deleted.is_(False),
    )
    return (await session.execute(q)).scalars().first()


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL_TOLERANCE, abs_tol=1e-6)


async def check(
    session: AsyncSession, cache: ModelCache, assignment: AssignmentClient, tenant_id: str, sales_force: str
) -> Consistency:
    today = datetime.now(UTC).date()
    truth = await assignment.ownership(tenant_id, sales_force, today.isoformat())
    alignment = await active_alignment(session, tenant_id, sales_force)
    result = Consistency(sales_force, alignment.alignment_id if alignment else None, datetime.now(UTC).isoformat(), 0)
    if truth.get("alignment_id") != result.alignment_id:
        result.differences.append(
            {
                "territory_code": None,
                "field": "alignment_id",
                "metrics": result.alignment_id,
                "assignment": truth.get("alignment_id"),
            }
        )
    ours: dict[str | None, dict[str, Any]] = {}
    if alignment is not None:
        model = await cache.model(session, tenant_id, alignment.alignment_id)
        for row in model.territory_metrics():
            if row.leaf:
                ours[row.code] = {
                    "accounts": row.values.get("account_count", 0.0),
                    "potential": row.values.get("account_potential", 0.0),
                    "primary_rep_id": row.primary_rep_id,
                }
        white = dict(zip(model.layer.metrics, model.white_space_values().tolist(), strict=True))
        ours[None] = {
            "accounts": white.get("account_count", 0.0),
            "potential": white.get("account_potential", 0.0),
            "primary_rep_id": None,
        }
    theirs: dict[str | None, dict[str, Any]] = {}
    for t in truth["territories"]:
        code = t["territory_code"]
        if code is not None and alignment is not None and code not in ours:
            # Owned by a code the active alignment lacks (a draft's, or one a rule names): no territory on the map
            # holds these accounts, so metrics-service counts them with the unassigned, and so does the check.
            result.codes_outside_alignment.append(code)
            code = None
        their = theirs.setdefault(code, {"accounts": 0, "potential": 0.0, "primary_rep_id": None})
        their["accounts"] += t["accounts"]
        their["potential"] += t["potential"]
        if code is not None:
            their["primary_rep_id"] = t["primary_rep_id"]
    empty = {"accounts": 0.0, "potential": 0.0, "primary_rep_id": None}
    for code in sorted(set(ours) | set(theirs), key=lambda c: (c is None, c or "")):
        mine, real = ours.get(code, empty), theirs.get(code, empty)
        result.territories_checked += 1
        for name in ("accounts", "potential"):
            if not _same(float(mine[name]), float(real[name])):
                result.differences.append(
                    {"territory_code": code, "field": name, "metrics": mine[name], "assignment": real[name]}
                )
        if code is not None and mine["primary_rep_id"] != real["primary_rep_id"]:
            result.differences.append(
                {
                    "territory_code": code,
                    "field": "primary_rep_id",
                    "metrics": mine["primary_rep_id"],
                    "assignment": real["primary_rep_id"],
                }
            )
    DIFFERENCES.labels(tenant_id, sales_force).set(len(result.differences))
    return result


async def sales_forces(session: AsyncSession) -> list[tuple[str, str]]:
    """(tenant, sales force) of every active alignment: what the monitor checks."""
    q = select(AlignmentProjectionRecord.tenant_id, AlignmentProjectionRecord.sales_force).where(
        AlignmentProjectionRecord.state == "active", AlignmentProjectionRecord.deleted.is_(False)
    )
    return sorted({(r[0], r[1]) for r in await session.execute(q)})


async def check_consistency(
    sessions: async_sessionmaker[AsyncSession], cache: ModelCache, assignment: AssignmentClient
) -> None:
    """Check every sales force with an active alignment (the monitor's tick): the gauge stays current."""
    async with sessions() as session:
        for tenant_id, sales_force in await sales_forces(session):
            try:
                await check(session, cache, assignment, tenant_id, sales_force)
            except (AssignmentUnavailable, AssignmentRefused):
                log.warning(
                    "consistency of %s/%s not checked: assignment-service did not answer", tenant_id, sales_force
                )
