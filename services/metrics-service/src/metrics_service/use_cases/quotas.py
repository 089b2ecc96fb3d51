"""Quota plans: set one (told through the outbox), read the quotas of the period under any alignment, and cut
the period into segments when another alignment becomes active."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from territory_shared.actor import current_actor
from territory_shared.errors import Conflict, InvalidInput, NotFound, PreconditionFailed
from territory_shared.events.metrics import QuotaPlanChangedV1

from metrics_service.db import quotas as db
from metrics_service.db.records import AlignmentProjectionRecord, QuotaPlanRecord, QuotaSegmentRecord
from metrics_service.db.unit_of_work import UnitOfWork
from metrics_service.domain.quotas import (
    NothingToAllocate,
    PeriodQuotas,
    PlanRefused,
    QuotaPlan,
    Segment,
    TerritoryFigures,
    allocate,
    check_adjustments,
    checked_plan,
    figures_of,
    frozen_figures,
    period_quotas,
    thawed_figures,
)
from metrics_service.use_cases.models import ModelCache

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlanInput:
    goal: float
    starts_on: date
    ends_on: date
    method: str
    potential_weight: float | None
    adjustments: Mapping[str, float]


def plan_of(row: QuotaPlanRecord) -> QuotaPlan:
    return QuotaPlan(row.goal, row.starts_on, row.ends_on, row.method, row.potential_weight, dict(row.adjustments))


def today() -> date:
    return datetime.now(UTC).date()


async def _alignment(
    session: AsyncSession, cache: ModelCache, tenant_id: str, sales_force: str, alignment_id: str
) -> AlignmentProjectionRecord:
    row = await cache.alignment(session, tenant_id, alignment_id)
    if row.sales_force != sales_force:
        raise InvalidInput(
            f"Alignment {alignment_id} is of sales force {row.sales_force!r}, not {sales_force!r}.",
            field="alignment_id",
        )
    return row


async def _figures(
    session: AsyncSession, cache: ModelCache, tenant_id: str, alignment_id: str
) -> list[TerritoryFigures]:
    return figures_of(await cache.model(session, tenant_id, alignment_id))


async def set_plan(
    uow: UnitOfWork,
    cache: ModelCache,
    tenant_id: str,
    sales_force: str,
    period: str,
    given: PlanInput,
    *,
    if_match: int | None = None,
    alignment_id: str | None = None,
) -> tuple[QuotaPlanRecord, bool, list[QuotaSegmentRecord]]:
    """Create or replace the plan and commit it with its event. Returns it, whether it is new, and its segments.
    Adjustments are checked against ``alignment_id``'s leaf territories (default: the active alignment)."""
    async with uow:
        session = uow.session
        try:
            plan = checked_plan(
                given.goal, given.starts_on, given.ends_on, given.method, given.potential_weight, given.adjustments
            )
        except PlanRefused as exc:
            raise InvalidInput(exc.detail, field=exc.field, **exc.extra) from None
        row = await db.plan(session, tenant_id, sales_force, period, for_update=True)
        if if_match is not None and (row is None or row.version != if_match):
            found = "does not exist" if row is None else f"is at version {row.version}"
            raise PreconditionFailed(f"The quota plan {found}, not at version {if_match}: read it again.")
        if alignment_id is not None:
            checked_against: AlignmentProjectionRecord | None = await _alignment(
                session, cache, tenant_id, sales_force, alignment_id
            )
        else:
            checked_against = await db.active_alignment(session, tenant_id, sales_force)
        if plan.adjustments:
            if checked_against is None:
                raise Conflict(
                    f"Sales force {sales_force!r} has no active alignment whose territories the adjustments could "
                    "name; pass alignment_id.",
                    field="adjustments",
                )
            figures = await _figures(session, cache, tenant_id, checked_against.alignment_id)
            try:
                check_adjustments(plan, figures)
            except PlanRefused as exc:
                raise InvalidInput(
                    exc.detail, field=exc.field, alignment_id=checked_against.alignment_id, **exc.extra
                ) from None
        segments = await db.segments(session, tenant_id, sales_force, period)
        closed = [s for s in segments if s.ends_on is not None]
        ends = [s.ends_on for s in closed if s.ends_on is not None]
        if row is not None and ends and (row.starts_on, row.ends_on) != (plan.starts_on, plan.ends_on):
            last_end = ends[-1]
            raise Conflict(
                f"A realignment on {last_end + timedelta(days=1)} split the period; its dates no longer change.",
                field="starts_on",
            )
        now = datetime.now(UTC)
        created = row is None
        if row is None:
            row = QuotaPlanRecord(
                tenant_id=tenant_id, sales_force=sales_force, period=period, version=0, created_at=now
            )
            session.add(row)
        row.goal, row.starts_on, row.ends_on = plan.goal, plan.starts_on, plan.ends_on
        row.method, row.potential_weight, row.adjustments = plan.method, plan.potential_weight, dict(plan.adjustments)
        row.alignment_id = checked_against.alignment_id if checked_against is not None else None
        row.version += 1
        row.updated_at, row.updated_by = now, current_actor()
        if not segments:
            active = await db.active_alignment(session, tenant_id, sales_force)
            if active is not None:
                session.add(_open_segment(row, active.alignment_id, plan.starts_on))
        elif not closed:
            segments[0].starts_on = plan.starts_on
        await uow.flush()
        uow.emit(
            tenant_id,
            f"{sales_force}/{period}",
            QuotaPlanChangedV1(
                sales_force=sales_force,
                period=period,
                goal=row.goal,
                starts_on=row.starts_on,
                ends_on=row.ends_on,
                method=row.method,
                potential_weight=row.potential_weight,
                adjustments=row.adjustments,
                alignment_id=row.alignment_id,
                version=row.version,
                updated_by=row.updated_by,
            ),
        )
        segments = await db.segments(session, tenant_id, sales_force, period)
        await uow.commit()
    return row, created, segments


def _open_segment(plan: QuotaPlanRecord, alignment_id: str, starts_on: date) -> QuotaSegmentRecord:
    return QuotaSegmentRecord(
        id=str(uuid.uuid4()),
        tenant_id=plan.tenant_id,
        sales_force=plan.sales_force,
        period=plan.period,
        alignment_id=alignment_id,
        starts_on=starts_on,
        ends_on=None,
        frozen=None,
        closed_at=None,
    )


def _clamp(day: date, low: date, high: date) -> date:
    return max(low, min(day, high))


@dataclass
class QuotaSheet:
    plan: QuotaPlanRecord
    alignment: AlignmentProjectionRecord
    segments: list[Segment]
    quotas: PeriodQuotas
    rep_names: dict[str, str | None]


async def quota_sheet(
    session: AsyncSession,
    cache: ModelCache,
    tenant_id: str,
    sales_force: str,
    period: str,
    alignment_id: str | None = None,
    on: date | None = None,
) -> QuotaSheet:
    """The period's quotas with ``alignment_id`` in effect from ``on`` (default today; from the period's start if
    it has not begun): what publishing that draft today would give. Without it, the quotas as they stand."""
    row = await db.plan(session, tenant_id, sales_force, period)
    if row is None:
        raise NotFound(f"Sales force {sales_force!r} has no quota plan for period {period!r}.")
    plan = plan_of(row)
    stored = await db.segments(session, tenant_id, sales_force, period)
    opened = next((s for s in stored if s.ends_on is None), None)
    if alignment_id is None:
        if opened is not None:
            alignment_id = opened.alignment_id
        else:
            active = await db.active_alignment(session, tenant_id, sales_force)
            if active is None:
                raise Conflict(
                    f"Sales force {sales_force!r} has no active alignment; pass alignment_id to see a draft's quotas.",
                    field="alignment_id",
                )
            alignment_id = active.alignment_id
    shown = await _alignment(session, cache, tenant_id, sales_force, alignment_id)
    day = on or today()
    spans: list[tuple[str, date, date, str]] = []  # alignment, first day, last day, state
    for s in stored:
        if s.ends_on is not None:
            spans.append((s.alignment_id, s.starts_on, s.ends_on, "closed"))
    if opened is not None and opened.alignment_id == alignment_id:
        spans.append((alignment_id, opened.starts_on, plan.ends_on, "open"))
    elif opened is not None:
        effective = max(day, plan.starts_on)
        if effective > opened.starts_on:
            until = min(effective - timedelta(days=1), plan.ends_on)
            spans.append((opened.alignment_id, opened.starts_on, until, "open"))
            spans.append((alignment_id, effective, plan.ends_on, "preview"))
        else:
            spans.append((alignment_id, opened.starts_on, plan.ends_on, "preview"))
    elif stored:  # the period ended before this alignment could take effect
        spans.append((alignment_id, plan.ends_on + timedelta(days=1), plan.ends_on, "preview"))
    else:
        spans.append((alignment_id, plan.starts_on, plan.ends_on, "preview"))
    frozen = {s.starts_on: s.frozen for s in stored if s.ends_on is not None}
    segments: list[Segment] = []
    for segment_alignment, first, last, state in spans:
        if state == "closed":
            figures, primary = thawed_figures(frozen[first] or {})
        else:
            figures = await _figures(session, cache, tenant_id, segment_alignment)
            roster_day = _clamp(day, first, max(first, last))
            primary = await db.primary_reps(session, tenant_id, sales_force, roster_day)
        try:
            allocation = allocate(plan, figures)
        except NothingToAllocate as exc:
            raise Conflict(
                f"Alignment {segment_alignment} ({first} to {last}): {exc}.",
                field="alignment_id",
                alignment_id=segment_alignment,
            ) from None
        segments.append(Segment(segment_alignment, first, last, allocation, primary, state))
    quotas = period_quotas(plan, segments)
    names = await db.rep_names(session, tenant_id, {r.rep_id for r in quotas.reps})
    return QuotaSheet(row, shown, segments, quotas, names)


async def record_activation(
    session: AsyncSession, alignment: AlignmentProjectionRecord, at: datetime, cache: ModelCache | None = None
) -> None:
    """``alignment`` became its sales force's active one at ``at``: in each quota plan of the sales force, the
    segment in effect closes the day before (keeping its figures and primary reps of that day) and the new
    alignment's segment starts. Before the period starts, the new alignment simply replaces the old one."""
    cache = cache or ModelCache()
    day = (at.astimezone(UTC) if at.tzinfo else at).date()
    for row in await db.plans(session, alignment.tenant_id, alignment.sales_force):
        stored = await db.segments(session, row.tenant_id, row.sales_force, row.period)
        opened = next((s for s in stored if s.ends_on is None), None)
        if opened is None:
            if not stored and day <= row.ends_on:
                session.add(_open_segment(row, alignment.alignment_id, row.starts_on))
            continue
        if opened.alignment_id == alignment.alignment_id:
            continue  # told again
        if day < opened.starts_on and len(stored) > 1:
            continue  # older than the realignment that started the segment in effect
        if day <= opened.starts_on:
            opened.alignment_id = alignment.alignment_id  # the period has not begun: nothing of the old one's to keep
            continue
        last = min(day - timedelta(days=1), row.ends_on)
        figures = figures_of(await cache.model(session, row.tenant_id, opened.alignment_id))
        primary = await db.primary_reps(session, row.tenant_id, row.sales_force, last)
        opened.ends_on, opened.frozen, opened.closed_at = last, frozen_figures(figures, primary), datetime.now(UTC)
        log.info(
            "quota plan %s/%s: %s in effect until %s, %s from %s",
            row.sales_force,
            row.period,
            opened.alignment_id,
            last,
            alignment.alignment_id,
            day,
        )
        if day <= row.ends_on:
            await session.flush()
            session.add(_open_segment(row, alignment.alignment_id, day))
    await session.flush()
