"""The handler table: which event type each projection applies."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import event as orm_event
from sqlalchemy.ext.asyncio import AsyncSession
from territory_shared.events.contracts import CONTRACTS
from territory_shared.events.envelope import CloudEvent
from territory_shared.messaging.inbox import Batched, Handler

from metrics_service.db.unit_of_work import UnitOfWork
from metrics_service.projections import territories
from metrics_service.projections.accounts import AccountProjections
from metrics_service.projections.alignments import GeoProjections
from metrics_service.settings import MetricsSettings
from metrics_service.use_cases.models import ModelCache
from metrics_service.use_cases.monitor import check_balance, take_snapshot
from metrics_service.use_cases.ports import GeoClient


def build_handlers(settings: MetricsSettings, geo: GeoClient, cache: ModelCache) -> Mapping[str, Handler]:
    geo_projections = GeoProjections(geo)
    accounts = AccountProjections(settings.hours_per_visit)

    async def on_published(session: AsyncSession, event: CloudEvent) -> None:
        alignment = await geo_projections.on_alignment_published(session, event)
        if alignment is None:
            return
        await session.flush()
        # The cache may read this transaction's changes: forget them if it rolls back.
        orm_event.listen(session.sync_session, "after_rollback", lambda _s: cache.forget(alignment.alignment_id))
        model = await cache.model(session, alignment.tenant_id, alignment.alignment_id)
        await take_snapshot(session, model, alignment, "publish", event.time)
        uow = UnitOfWork.in_session(session)
        async with uow:
            await check_balance(uow, model, alignment, settings.balance_metrics, settings.balance_tolerance)
            await uow.commit()  # stages the events: the consumer commits them with the projection

    handlers: dict[str, Handler] = {
        "geo.territory.created.v1": territories.on_territory_created,
        "geo.territory.renamed.v1": territories.on_territory_renamed,
        "geo.territory.deleted.v1": territories.on_territory_deleted,
        "geo.layer.imported.v1": geo_projections.on_layer_imported,
        "geo.layer.deleted.v1": geo_projections.on_layer_deleted,
        "geo.alignment.created.v1": geo_projections.on_alignment_created,
        "geo.alignment.edited.v1": geo_projections.on_alignment_edited,
        "geo.alignment.published.v1": on_published,
        "geo.alignment.archived.v1": geo_projections.on_alignment_archived,
        "geo.alignment.deleted.v1": geo_projections.on_alignment_deleted,
        # Counted by the hundred thousand (a bulk upsert, a realignment): applied a run at a time.
        "assignment.account.upserted.v1": Batched(accounts.on_accounts_upserted),
        "assignment.account.deleted.v1": Batched(accounts.on_accounts_deleted),
        "assignment.account.reassigned.v1": Batched(accounts.on_accounts_reassigned),
        "assignment.rep.upserted.v1": Batched(accounts.on_reps_upserted),
        "assignment.roster.changed.v1": Batched(accounts.on_rosters_changed),
    }
    # assignment-service's contracts are being written: consume only the types the registry knows.
    return {t: h for t, h in handlers.items() if t in CONTRACTS}
