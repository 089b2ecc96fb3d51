"""What a caller with only the rep role may see: their own rep record and the accounts assigned to them.

The token names the rep by external id; assignments hold the rep's internal id, resolved once per request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from territory_shared.api.problems import NotFound
from territory_shared.api.tenancy import RepScope, TenantId

from assignment_service.api.deps import Uow
from assignment_service.db.unit_of_work import UnitOfWork

NO_REP = ""  # matches no assignment: a token naming a rep that does not exist (yet) sees nothing


async def own_rep_id(tenant: TenantId, rep: RepScope, uow: Uow) -> str | None:
    """The internal id of the calling rep; None when the caller is not limited to one rep."""
    if rep is None:
        return None
    async with uow:
        record = await uow.reps.get(tenant, rep)
    return record.id if record is not None else NO_REP


OwnRep = Annotated[str | None, Depends(own_rep_id)]


async def check_account_is_theirs(uow: UnitOfWork, tenant: str, account_id: str, rep_id: str | None, name: str) -> None:
    """404, as for a missing account, when a rep asks for one not assigned to them: its existence is not theirs."""
    if rep_id is None:
        return
    if not any(a.rep_id == rep_id for a in await uow.assignments.of_account(tenant, account_id)):
        raise NotFound(f"Account {name} does not exist.")
