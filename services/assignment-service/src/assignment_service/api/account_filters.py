"""The account filters of ``GET /v1/accounts`` and the assignment exports, read from the query and checked.

A filter that cannot hold (a minimum above the maximum, an owner filter with no sales force to look in, a sales
force or rep that does not exist) is a 422 naming the parameter, never an empty page that looks like an answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query
from territory_shared.api.problems import InvalidInput

from assignment_service.db.account_search import AccountSearch
from assignment_service.db.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class AccountFilters:
    """The filters as given; ``rep`` is a rep's external id or id, resolved by ``resolve``."""

    name: str | None
    external_id: str | None
    industry: str | None
    territory_code: str | None
    rep: str | None
    unassigned: bool | None
    potential_min: float | None
    potential_max: float | None


def account_filters(
    name: Annotated[
        str | None, Query(min_length=1, max_length=200, description="A part of the name, ignoring case")
    ] = None,
    external_id: Annotated[str | None, Query(min_length=1, max_length=100, description="Exactly this one")] = None,
    industry: Annotated[str | None, Query(min_length=1, max_length=100, description="Equal, ignoring case")] = None,
    territory_code: Annotated[
        str | None, Query(min_length=1, max_length=64, description="Assigned to this territory (needs sales_force)")
    ] = None,
    rep: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=100,
            description="Assigned to this rep (external id or id): in sales_force when given, else in any",
        ),
    ] = None,
    unassigned: Annotated[
        bool | None, Query(description="true: no territory in sales_force; false: a territory (needs sales_force)")
    ] = None,
    potential_min: Annotated[
        float | None, Query(allow_inf_nan=False, description="potential >= this (accounts with none are left out)")
    ] = None,
    potential_max: Annotated[float | None, Query(allow_inf_nan=False, description="potential <= this")] = None,
) -> AccountFilters:
    return AccountFilters(name, external_id, industry, territory_code, rep, unassigned, potential_min, potential_max)


Filters = Annotated[AccountFilters, Depends(account_filters)]


async def resolve(
    uow: UnitOfWork,
    tenant_id: str,
    given: AccountFilters,
    sales_force: str | None,
    own_rep_id: str | None,
    own_rep_external_id: str | None,
) -> AccountSearch:
    """The search for ``given``, in the caller's transaction; a 422 naming the parameter when it cannot hold.

    ``own_rep_id`` / ``own_rep_external_id``: a caller limited to one rep (``rep_scope``) sees their accounts only,
    and may name no other rep (its existence is not theirs to learn).
    """
    if given.potential_min is not None and given.potential_max is not None:
        if given.potential_min > given.potential_max:
            raise InvalidInput(
                f"potential_min ({given.potential_min:g}) is above potential_max ({given.potential_max:g}).",
                field="potential_min",
            )
    if sales_force is None:
        for field, value in (("territory_code", given.territory_code), ("unassigned", given.unassigned)):
            if value is not None:
                reason = f"{field} filters by owner in one sales force: give sales_force."
                raise InvalidInput(reason, field="sales_force")
    elif await uow.assignments.sales_force(tenant_id, sales_force) is None:
        raise InvalidInput(f"Sales force {sales_force!r} does not exist.", field="sales_force")
    if given.unassigned is True and given.territory_code is not None:
        reason = "An unassigned account has no territory: give territory_code or unassigned=true, not both."
        raise InvalidInput(reason, field="unassigned")
    rep_id = None
    if given.rep is not None:
        rep_id = await _rep_id(uow, tenant_id, given.rep, own_rep_id, own_rep_external_id)
    return AccountSearch(
        name=given.name,
        external_id=given.external_id,
        industry=given.industry,
        potential_min=given.potential_min,
        potential_max=given.potential_max,
        sales_force=sales_force,
        territory_code=given.territory_code,
        rep_id=rep_id,
        unassigned=given.unassigned,
        visible_to_rep=own_rep_id,
        every_sales_force=tuple(sf.name for sf in await uow.assignments.sales_forces(tenant_id)),
    )


async def _rep_id(
    uow: UnitOfWork, tenant_id: str, rep: str, own_rep_id: str | None, own_rep_external_id: str | None
) -> str:
    if own_rep_id is not None:
        if rep not in (own_rep_id, own_rep_external_id):
            raise InvalidInput("A rep's credentials list only their own accounts: name no other rep.", field="rep")
        return own_rep_id
    record = await uow.reps.get(tenant_id, rep) or await uow.reps.get_by_id(tenant_id, rep)
    if record is None:
        raise InvalidInput(f"Rep {rep} does not exist (neither as external id nor as id).", field="rep")
    return record.id
