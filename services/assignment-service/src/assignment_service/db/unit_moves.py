"""PostgreSQL: move the accounts of the units whose territory changed with a few set-based statements.

An incremental realignment that moves a tenth of a million accounts read each account and its assignment into
Python, decided it and wrote it back: seconds of round trips and object building per 20,000 accounts. When the
sales force assigns by geography alone, an account in a changed unit goes where the unit goes, with the
territory's primary rep, which one ``UPDATE ... FROM`` joined to the staged unit -> territory table decides for
all of them; the history rows are inserted by the same statement. What it cannot decide that way (accounts pinned
by an override, or without a live located account) is left to the row-by-row path, which ``leftovers`` lists.

The decision is ``SalesForcePlan._geography`` in SQL: keep the two in step.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import String, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from assignment_service.db.bulk import asyncpg_connection, is_postgres
from assignment_service.db.rows import AnyRow

# The accounts of a unit whose new territory is null are unassigned, with the reason the domain gives.
_WHITE_SPACE = "'unit ' || s.geo_unit_id || ' is white space (in no territory) in the alignment'"


class UnitMoves:
    """The changed units of one publication part and the primary reps, staged in temporary tables."""

    def __init__(self, session: AsyncSession, tenant_id: str, sales_force: str) -> None:
        self._s = session
        self._tenant = tenant_id
        self._sf = sales_force
        suffix = uuid.uuid4().hex[:12]
        self._units, self._reps = f"moved_units_{suffix}", f"primary_reps_{suffix}"

    @staticmethod
    def available(session: AsyncSession) -> bool:
        return is_postgres(session)

    async def stage(self, new_code: dict[str, str | None], primary_rep: dict[str, str]) -> None:
        for table, key, value in ((self._units, "unit_id", "territory_code"), (self._reps, "territory_code", "rep_id")):
            await self._s.execute(
                text(f'CREATE TEMPORARY TABLE "{table}" ({key} varchar PRIMARY KEY, {value} varchar) ON COMMIT DROP')
            )
        driver = await asyncpg_connection(self._s)
        await driver.copy_records_to_table(self._units, records=list(new_code.items()))
        await driver.copy_records_to_table(self._reps, records=list(primary_rep.items()))
        await self._s.execute(text(f'ANALYZE "{self._units}"'))
        await self._s.execute(text(f'ANALYZE "{self._reps}"'))

    async def accounts_per_unit(self) -> list[tuple[str, int]]:
        q = text(
            f'SELECT s.geo_unit_id, count(*) FROM assignments s JOIN "{self._units}" u ON u.unit_id = s.geo_unit_id '
            "WHERE s.tenant_id = :t AND s.sales_force = :sf GROUP BY s.geo_unit_id ORDER BY s.geo_unit_id"
        )
        return [(r[0], int(r[1])) for r in await self._s.execute(q, {"t": self._tenant, "sf": self._sf})]

    async def leftovers(self) -> list[str]:
        """Accounts in the changed units that ``move`` leaves alone: pinned by an override, or not live and
        located (the row-by-row path decides them as it always has)."""
        q = text(
            f'SELECT s.account_id FROM assignments s JOIN "{self._units}" u ON u.unit_id = s.geo_unit_id '
            "LEFT JOIN accounts a ON a.tenant_id = s.tenant_id AND a.id = s.account_id "
            "WHERE s.tenant_id = :t AND s.sales_force = :sf AND ("
            "a.id IS NULL OR a.deleted_at IS NOT NULL OR a.lat IS NULL OR EXISTS (SELECT 1 FROM overrides o "
            "WHERE o.tenant_id = s.tenant_id AND o.sales_force = s.sales_force AND o.account_id = s.account_id "
            "AND o.removed_at IS NULL)) ORDER BY s.account_id"
        )
        return list((await self._s.execute(q, {"t": self._tenant, "sf": self._sf})).scalars())

    async def move(
        self, unit_ids: Sequence[str], *, alignment_id: str, run_id: str, trigger: str, now: datetime, actor: str
    ) -> Sequence[AnyRow]:
        """Reassign the accounts of ``unit_ids`` (not the leftovers), write the history of those whose territory
        or rep changed, and return these: account_id, external_id, geo_unit_id, from/to territory and rep, cause,
        potential."""
        q = text(
            f"""
            WITH decided AS (
                SELECT s.account_id, a.external_id, a.potential, s.geo_unit_id, s.territory_code AS from_territory,
                       s.rep_id AS from_rep, u.territory_code AS to_territory,
                       CASE WHEN u.territory_code IS NULL THEN NULL ELSE p.rep_id END AS to_rep,
                       CASE WHEN u.territory_code IS NULL THEN 'unassigned' ELSE 'geography' END AS cause,
                       CASE WHEN u.territory_code IS NULL THEN {_WHITE_SPACE} END AS reason
                FROM assignments s
                JOIN "{self._units}" u ON u.unit_id = s.geo_unit_id
                JOIN accounts a ON a.tenant_id = s.tenant_id AND a.id = s.account_id
                LEFT JOIN "{self._reps}" p ON p.territory_code = u.territory_code
                WHERE s.tenant_id = :t AND s.sales_force = :sf AND s.geo_unit_id = ANY(:units)
                  AND a.deleted_at IS NULL AND a.lat IS NOT NULL
                  AND NOT EXISTS (
                      SELECT 1 FROM overrides o
                      WHERE o.tenant_id = s.tenant_id AND o.sales_force = s.sales_force
                        AND o.account_id = s.account_id AND o.removed_at IS NULL
                  )
            ),
            changed AS (
                UPDATE assignments s
                SET external_id = d.external_id, territory_code = d.to_territory, rep_id = d.to_rep,
                    cause = d.cause, rule = NULL, reason = d.reason, geo_territory_code = d.to_territory,
                    alignment_id = :alignment, potential = d.potential, by_geography = TRUE, updated_at = :now
                FROM decided d
                WHERE s.tenant_id = :t AND s.sales_force = :sf AND s.account_id = d.account_id
                  AND (s.external_id, s.territory_code, s.rep_id, s.cause, s.rule, s.reason, s.geo_territory_code,
                       s.alignment_id, s.potential, s.by_geography)
                      IS DISTINCT FROM
                      (d.external_id, d.to_territory, d.to_rep, d.cause, NULL, d.reason, d.to_territory,
                       CAST(:alignment AS varchar), d.potential, TRUE)
                RETURNING d.*
            ),
            moved AS (
                SELECT * FROM changed
                WHERE from_territory IS DISTINCT FROM to_territory OR from_rep IS DISTINCT FROM to_rep
            ),
            history AS (
                INSERT INTO assignment_history (
                    tenant_id, sales_force, account_id, external_id, from_territory_code, to_territory_code,
                    from_rep_id, to_rep_id, cause, reason, trigger, run_id, alignment_id, potential, changed_at,
                    changed_by
                )
                SELECT :t, :sf, account_id, external_id, from_territory, to_territory, from_rep, to_rep, cause,
                       reason, :trigger, :run, :alignment, potential, :now, :actor
                FROM moved
                ORDER BY account_id
            )
            SELECT account_id, external_id, geo_unit_id, from_territory, to_territory, from_rep, to_rep, cause,
                   potential
            FROM moved ORDER BY account_id
            """
        ).bindparams(bindparam("units", type_=ARRAY(String)))
        params = {
            "t": self._tenant,
            "sf": self._sf,
            "units": list(unit_ids),
            "alignment": alignment_id,
            "run": run_id,
            "trigger": trigger,
            "now": now,
            "actor": actor,
        }
        return (await self._s.execute(q, params)).all()


def chunks_of_units(counts: Sequence[tuple[str, int]], accounts: int) -> list[list[str]]:
    """Units grouped so that each group holds about ``accounts`` accounts (a larger unit alone)."""
    out: list[list[str]] = []
    group: list[str] = []
    held = 0
    for unit, n in counts:
        if group and held + n > accounts:
            out.append(group)
            group, held = [], 0
        group.append(unit)
        held += n
    if group:
        out.append(group)
    return out
