"""A rule, a roster entry or an override names a territory by code: one of the sales force's alignments has it.

An account-based territory (a key-account team, an overlay) is created first, like any territory, in a draft
of the sales force (``POST /geo/v1/territories`` with the draft's id and no units); then rules, rosters and
overrides may name it, and once the draft is published the accounts they pin count in it. A code that exists
nowhere would silently own accounts that no map or metric shows.
"""

from __future__ import annotations

from territory_shared.errors import InvalidInput

from assignment_service.use_cases.ports import GeoClient


async def require_territory(geo: GeoClient, tenant_id: str, sales_force: str, code: str, field: str) -> None:
    """Refuse (422 naming ``field``) a code that no active or draft alignment of the sales force has."""
    codes = await geo.territory_codes(tenant_id, sales_force)
    if code not in codes:
        raise InvalidInput(
            f"No alignment of sales force {sales_force!r} has a territory {code!r}; create it first in a draft "
            "of the sales force (POST /geo/v1/territories), then name it here.",
            field=field,
        )
