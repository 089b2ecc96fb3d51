"""Events assignment-service emits: accounts and reps upserted, accounts reassigned, realignment notices."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from territory_shared.events.base import EventContract, EventData


class AccountUpsertedV1(EventData):
    """An account was created or changed (small facts only; read the account over HTTP for the rest)."""

    account_id: str
    external_id: str
    version: int = Field(ge=1, description="The account's version after this change")
    lat: float | None
    lon: float | None
    location_precision: str | None = Field(description="exact or zip-centroid; null without a location")
    zip: str | None = None
    potential: float | None = None
    revenue: float | None = None
    industry: str | None = None
    size: str | None = None
    visits_per_year: float | None = None
    workload_hours: float | None = None


class AccountDeletedV1(EventData):
    """An account was deleted; its assignments ended and its history is kept."""

    account_id: str
    external_id: str
    version: int = Field(ge=1)


class RepUpsertedV1(EventData):
    """A rep was created or changed (capacity, role, active flag)."""

    rep_id: str
    external_id: str
    version: int = Field(ge=1)
    name: str | None
    capacity_hours: float | None
    role: str | None
    active: bool
    home_lat: float | None = None
    home_lon: float | None = None


class AccountReassignedV1(EventData):
    """An account's owner in one sales force was set or changed (``run_id`` set when a realignment did it).

    Every change of territory or rep is told, whatever its cause, a first assignment included (``from_*`` null).
    It is also told when only what the owner depends on changed (``unit_id`` or ``by_geography``), so that a
    projection can say what publishing another alignment would do to the account.
    """

    account_id: str
    external_id: str
    sales_force: str
    from_territory_code: str | None
    to_territory_code: str | None
    from_rep_id: str | None
    to_rep_id: str | None
    from_rep_external_id: str | None = None
    to_rep_external_id: str | None = None
    cause: str = Field(description="geography, rule, override or unassigned: why the account is where it is now")
    trigger: str = Field(description="realignment, account, rep, roster, rule, override, recompute or announce")
    run_id: str | None = None
    alignment_id: str | None = None
    unit_id: str | None = Field(
        default=None, description="The unit of the alignment's layer that holds the account's location (geo-service's)"
    )
    by_geography: bool = Field(
        default=False,
        description="True when the territory follows the unit's territory (geography, a rule or override without a "
        "territory, or no alignment yet): publishing an alignment that moves the unit moves the account",
    )


class RosterEntry(EventData):
    entry_id: str
    rep_id: str
    rep_external_id: str | None = None
    role: str = Field(description="primary or secondary")
    effective_from: date
    effective_to: date | None = Field(default=None, description="Exclusive; null while open-ended")


class RosterChangedV1(EventData):
    """The roster of one territory (by code) of a sales force changed: every entry it has now, dated.

    The whole roster of the territory travels each time, so applying the newest one is enough; entries that end
    in the future are included, and a reader picks those in effect on the day it asks about.
    """

    sales_force: str
    territory_code: str
    entries: list[RosterEntry]


class RepChange(EventData):
    rep_id: str | None = Field(description="null for accounts that had or get no rep")
    rep_external_id: str | None = None
    accounts_gained: int
    accounts_lost: int
    potential_gained: float
    potential_lost: float


class TerritoryChange(EventData):
    territory_code: str | None = Field(description="null for accounts that were or become unassigned")
    accounts_gained: int
    accounts_lost: int
    potential_gained: float
    potential_lost: float


class RealignmentCompletedV1(EventData):
    """One realignment run finished: the notice for subscribers, with gains and losses per rep and territory.

    The moved accounts themselves are ``assignment.account.reassigned.v1`` events with this ``run_id``, and
    ``GET /v1/realignments/{run_id}/changes`` pages through them.
    """

    run_id: str
    sales_force: str
    alignment_id: str
    alignment_version: int
    previous_alignment_id: str | None
    accounts_moved: int
    potential_moved: float
    reps: list[RepChange]
    territories: list[TerritoryChange]


ASSIGNMENT_CONTRACTS = [
    EventContract("assignment.account.upserted.v1", "assignment.account", AccountUpsertedV1, "assignment-service"),
    EventContract("assignment.account.deleted.v1", "assignment.account", AccountDeletedV1, "assignment-service"),
    EventContract("assignment.account.reassigned.v1", "assignment.account", AccountReassignedV1, "assignment-service"),
    EventContract("assignment.rep.upserted.v1", "assignment.rep", RepUpsertedV1, "assignment-service"),
    EventContract("assignment.roster.changed.v1", "assignment.roster", RosterChangedV1, "assignment-service"),
    EventContract(
        "assignment.realignment.completed.v1", "assignment.realignment", RealignmentCompletedV1, "assignment-service"
    ),
]
