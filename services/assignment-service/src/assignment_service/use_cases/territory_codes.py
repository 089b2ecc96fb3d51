"""A roster entry or an override names a territory by code: one that exists in the sales force's alignments.

An account-based territory (a key-account team, an overlay) is created first, like any territory, in the
sales force's alignment (``POST /geo/v1/territories`` with the alignment id and no units); then rosters and
overrides may name it. A code that exists nowhere would silently own accounts that no map or metric shows.
"""

from __future__ import annotations

from territory_shared.api.problems import InvalidInput

from assignment_service.use_cases.ports import GeoClient


async def require_territory(geo: GeoClient, tenant_id: str, sales_force: str, code: str, field: str) -> None:
    """Refuse (422 naming ``field``) a code that no active or draft alignment of the sales force has."""
    codes = await geo.territory_codes(tenant_id, sales_force)
    if code not in codes:
        raise InvalidInput(
            f"No alignment of sales force {sales_force!r} has a territory {code!r}; create it first "
            "(POST /geo/v1/territories in the sales force's alignment), then name it here.",
            field=field,
        )
