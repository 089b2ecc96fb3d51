from __future__ import annotations

from territory_shared.errors import NotFound, PreconditionFailed

from geo_service.db.unit_of_work import UnitOfWork
from geo_service.domain.territory import Territory


async def load_for_update(
    uow: UnitOfWork, tenant_id: str, territory_id: str, expected_version: int | None
) -> Territory:
    """The territory to change, or the error that stops the change: unknown (404) or stale (412)."""
    territory = await uow.territories.get(tenant_id, territory_id)
    if territory is None:
        raise NotFound(f"Territory {territory_id} does not exist.")
    if expected_version is not None and expected_version != territory.version:
        raise PreconditionFailed(
            f"Territory {territory_id} is at version {territory.version}, not {expected_version}: "
            "it changed since you read it. Reload and retry.",
            current_version=territory.version,
        )
    return territory
