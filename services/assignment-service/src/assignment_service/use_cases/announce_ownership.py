"""Tell every current owner of a sales force again, and every roster: how a projection is rebuilt exactly.

A projection built before owners were told with their unit (or one that lost its database) replays the topics
and still lacks facts; this job announces each live account's current owner (``trigger`` ``announce``, from and
to the same owner, so the chain of an account's owners stays unbroken) and each territory's roster. Applying the
announcements twice changes nothing.
"""

from __future__ import annotations

from typing import Any

from territory_shared.events.assignment import AccountReassignedV1
from territory_shared.jobs import Progress

from assignment_service.db import ownership
from assignment_service.db.unit_of_work import UnitOfWork
from assignment_service.use_cases.reps import emit_roster

PAGE = 20_000


async def announce_ownership(uow: UnitOfWork, tenant_id: str, sales_force: str, progress: Progress) -> dict[str, Any]:
    async with uow:
        rep_ext = await uow.reps.external_ids(tenant_id)
        codes = await ownership.territory_codes_with_roster(uow.session, tenant_id, sales_force)
        for code in codes:
            await emit_roster(uow, tenant_id, sales_force, code)
        await uow.commit()
    told, after = 0, None
    while True:
        async with uow:
            rows = await ownership.page_of_owners(uow.session, tenant_id, sales_force, after, PAGE)
            if not rows:
                break
            uow.emit_many(
                tenant_id,
                AccountReassignedV1,
                [r.account_id for r in rows],
                [
                    {
                        "account_id": r.account_id,
                        "external_id": r.external_id,
                        "sales_force": sales_force,
                        "from_territory_code": r.territory_code,
                        "to_territory_code": r.territory_code,
                        "from_rep_id": r.rep_id,
                        "to_rep_id": r.rep_id,
                        "from_rep_external_id": rep_ext.get(r.rep_id) if r.rep_id else None,
                        "to_rep_external_id": rep_ext.get(r.rep_id) if r.rep_id else None,
                        "cause": r.cause,
                        "trigger": "announce",
                        "run_id": None,
                        "alignment_id": r.alignment_id,
                        "unit_id": r.geo_unit_id,
                        "by_geography": r.by_geography,
                    }
                    for r in rows
                ],
            )
            await uow.commit()
        told += len(rows)
        after = rows[-1].account_id
        await progress("announcing", min(95.0, 5 + told / 10_000), f"{told:,} accounts")
    return {"sales_force": sales_force, "accounts_told": told, "rosters_told": len(codes)}
