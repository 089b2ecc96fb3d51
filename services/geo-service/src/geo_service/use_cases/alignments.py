"""Alignment life cycle: create (empty or as a copy), publish, archive, delete a draft."""

from __future__ import annotations

from territory_shared.errors import BadRequest, NotFound, PreconditionFailed
from territory_shared.events.geo import (
    AlignmentArchivedV1,
    AlignmentCreatedV1,
    AlignmentDeletedV1,
    AlignmentPublishedV1,
    UnitChange,
)

from geo_service.db.unit_of_work import UnitOfWork
from geo_service.domain.alignment import Alignment
from geo_service.domain.territory import Territory
from geo_service.use_cases.publish_gate import cancel_pending_schedule, require_approval

# Keeps a published event well under Kafka's default 1 MB message size.
CHANGES_PER_EVENT = 5_000


async def load_alignment(
    uow: UnitOfWork, tenant_id: str, alignment_id: str, expected_version: int | None = None
) -> Alignment:
    alignment = await uow.alignments.get(tenant_id, alignment_id)
    if alignment is None:
        raise NotFound(f"Alignment {alignment_id} does not exist.")
    if expected_version is not None and expected_version != alignment.version:
        raise PreconditionFailed(
            f"Alignment {alignment_id} is at version {alignment.version}, not {expected_version}: "
            "someone changed it since you read it. Reload and retry.",
            current_version=alignment.version,
        )
    return alignment


async def create_alignment(
    uow: UnitOfWork,
    tenant_id: str,
    *,
    name: str,
    sales_force: str,
    layer_id: str | None,
    copy_from: str | None,
) -> Alignment:
    """A new draft: empty (every unit of the layer white space) or a copy of another alignment.

    A copy duplicates territories and unit memberships in SQL, so it stays cheap for 30,000 units.
    """
    async with uow:
        source = await load_alignment(uow, tenant_id, copy_from) if copy_from else None
        if source is not None:
            if layer_id is not None and layer_id != source.layer_id:
                raise BadRequest("layer_id differs from the copied alignment's layer", field="layer_id")
            layer_id = source.layer_id
        if layer_id is None:
            raise BadRequest("give layer_id, or copy_from to copy an alignment", field="layer_id")
        if await uow.layers.get(tenant_id, layer_id) is None:
            raise NotFound(f"Layer {layer_id} does not exist.", field="layer_id")
        alignment = Alignment.new_draft(tenant_id, layer_id, sales_force, name, copied_from=copy_from)
        await uow.alignments.add(alignment)
        if source is None:
            await uow.alignments.fill_memberships(alignment.id, layer_id)
        else:
            await _copy_territories(uow, tenant_id, source.id, alignment.id)
            await uow.flush()
            await uow.alignments.copy_memberships(source.id, alignment.id)
            await uow.alignments.copy_shapes(source.id, alignment.id)
        uow.emit(
            tenant_id,
            alignment.id,
            AlignmentCreatedV1(
                alignment_id=alignment.id,
                layer_id=layer_id,
                sales_force=sales_force,
                name=name,
                state=alignment.state,
                version=alignment.version,
                copied_from=copy_from,
            ),
        )
        await uow.commit()
        return alignment


async def _copy_territories(uow: UnitOfWork, tenant_id: str, source_id: str, target_id: str) -> None:
    originals = await uow.territories.in_alignment(source_id)
    new_ids: dict[str, str] = {}
    # Parents first, so each copy can point at its parent's copy.
    for original in sorted(originals, key=lambda t: _depth(t, originals)):
        copy, event = Territory.create(
            tenant_id,
            original.code,
            original.name,
            alignment_id=target_id,
            parent_id=new_ids.get(original.parent_id) if original.parent_id else None,
            colour=original.colour,
        )
        new_ids[original.id] = copy.id
        await uow.territories.add(copy)
        uow.emit(tenant_id, copy.id, event)


def _depth(territory: Territory, all_: list[Territory]) -> int:
    by_id = {t.id: t for t in all_}
    depth, parent = 0, territory.parent_id
    while parent in by_id:
        depth, parent = depth + 1, by_id[parent].parent_id
    return depth


async def publish_alignment(
    uow: UnitOfWork,
    tenant_id: str,
    alignment_id: str,
    expected_version: int | None,
    *,
    override_approval: bool = False,
) -> Alignment:
    """Make a draft the only active alignment of its sales force, in one transaction.

    Emits ``geo.alignment.published.v1`` with the units whose territory (by code) changed from the
    previous active alignment (every assigned unit when there was none). When the sales force has an approval
    policy the draft must be approved at its current version (409 otherwise), unless ``override_approval`` (an
    admin's, checked by the caller) records the override instead. A pending schedule of the draft is cancelled.
    """
    async with uow:
        alignment = await load_alignment(uow, tenant_id, alignment_id, expected_version)
        alignment.require_draft("published")
        await require_approval(uow, alignment, override=override_approval)
        await cancel_pending_schedule(uow, alignment, "published by hand")
        await stage_publish(uow, alignment)
        await uow.commit()
        return alignment


async def stage_publish(uow: UnitOfWork, alignment: Alignment) -> None:
    """Publish a draft that passed its checks, in the caller's transaction: archive the previous active
    alignment, activate this one and stage their events. The caller commits."""
    tenant_id = alignment.tenant_id
    previous = await uow.alignments.active(tenant_id, alignment.sales_force)
    changes = await _changes(uow, previous, alignment)
    if previous is not None:
        previous.archive()
        await uow.alignments.save(previous)
        await uow.flush()  # the partial unique index allows one active: archive first
        uow.emit(tenant_id, previous.id, AlignmentArchivedV1(alignment_id=previous.id, version=previous.version))
    alignment.publish()
    await uow.alignments.save(alignment)
    await uow.flush()
    parts = max(1, -(-len(changes) // CHANGES_PER_EVENT))
    for part in range(parts):
        uow.emit(
            tenant_id,
            alignment.id,
            AlignmentPublishedV1(
                alignment_id=alignment.id,
                sales_force=alignment.sales_force,
                version=alignment.version,
                previous_alignment_id=previous.id if previous else None,
                changes=changes[part * CHANGES_PER_EVENT : (part + 1) * CHANGES_PER_EVENT],
                part=part + 1,
                parts=parts,
            ),
        )


async def publish_changes(uow: UnitOfWork, tenant_id: str, alignment_id: str) -> tuple[str | None, list[UnitChange]]:
    """What publishing the alignment now would tell (``geo.alignment.published.v1``'s changes): the units whose
    territory code differs from the sales force's active alignment, and that alignment's id."""
    async with uow:
        alignment = await load_alignment(uow, tenant_id, alignment_id)
        previous = await uow.alignments.active(tenant_id, alignment.sales_force)
        if previous is not None and previous.id == alignment.id:
            return previous.id, []
        return (previous.id if previous else None), await _changes(uow, previous, alignment)


async def _changes(uow: UnitOfWork, previous: Alignment | None, current: Alignment) -> list[UnitChange]:
    async def codes(alignment: Alignment | None) -> dict[str, str | None]:
        if alignment is None:
            return {}
        by_id = {t.id: t.code for t in await uow.territories.in_alignment(alignment.id)}
        return {
            u: by_id.get(t) if t else None for u, (t, _) in (await uow.alignments.memberships(alignment.id)).items()
        }

    before, after = await codes(previous), await codes(current)
    return [
        UnitChange(unit_id=u, from_territory_code=before.get(u), to_territory_code=after.get(u))
        for u in sorted(set(before) | set(after))
        if before.get(u) != after.get(u)
    ]


async def archive_alignment(
    uow: UnitOfWork, tenant_id: str, alignment_id: str, expected_version: int | None
) -> Alignment:
    async with uow:
        alignment = await load_alignment(uow, tenant_id, alignment_id, expected_version)
        alignment.archive()
        await uow.alignments.save(alignment)
        uow.emit(tenant_id, alignment.id, AlignmentArchivedV1(alignment_id=alignment.id, version=alignment.version))
        await uow.commit()
        return alignment


async def delete_alignment(uow: UnitOfWork, tenant_id: str, alignment_id: str, expected_version: int | None) -> None:
    async with uow:
        alignment = await load_alignment(uow, tenant_id, alignment_id, expected_version)
        alignment.require_draft("deleted")
        await uow.alignments.delete(alignment.id)
        uow.emit(tenant_id, alignment.id, AlignmentDeletedV1(alignment_id=alignment.id))
        await uow.commit()
