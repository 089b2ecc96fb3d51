"""Effective-dated publishing: a draft published by geo-service itself at a given time.

The time is given as wall-clock time in an explicit IANA time zone (``2027-01-04T08:00`` in
``America/Chicago``) and kept as the UTC instant it names. States: ``scheduled`` -> ``done`` (published),
``cancelled`` (by someone, or by publishing the draft by hand) or ``failed`` (due, but it could not be published
for a reason retrying does not cure; ``outcome`` says why).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from territory_shared.errors import Conflict, InvalidInput

SCHEDULED, DONE, CANCELLED, FAILED = "scheduled", "done", "cancelled", "failed"
STATES = (SCHEDULED, DONE, CANCELLED, FAILED)


def zone(name: str) -> ZoneInfo:
    """The IANA zone called ``name``; 422 naming ``time_zone`` for any other string."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"{name!r} is not an IANA time zone (e.g. America/Chicago, Europe/Paris, UTC).", field="time_zone"
        ) from None


def effective_instant(when: datetime, time_zone: str, now: datetime) -> datetime:
    """The UTC instant of ``when``: wall-clock time in ``time_zone`` (or an instant, when it carries an offset).

    Refused (422 naming ``effective_at``): a wall-clock time the zone skips (a daylight-saving gap), and any
    instant not in the future. An ambiguous time (the hour repeated when clocks go back) is its first occurrence.
    """
    tz = zone(time_zone)
    if when.tzinfo is None:
        local = when.replace(tzinfo=tz)
        if local.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != when:
            raise InvalidInput(
                f"{when.isoformat()} does not exist in {time_zone}: the clocks skip it (daylight saving).",
                field="effective_at",
            )
        instant = local.astimezone(UTC)
    else:
        instant = when.astimezone(UTC)
    if instant <= now:
        raise InvalidInput(
            f"effective_at {when.isoformat()} ({time_zone}) is {instant.isoformat()} UTC, not in the future "
            f"(now is {now.replace(microsecond=0).isoformat()}).",
            field="effective_at",
        )
    return instant


def as_utc(moment: datetime) -> datetime:
    """A stored instant with its zone: SQLite gives back naive datetimes, which are UTC here."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass
class PublishSchedule:
    id: str
    tenant_id: str
    alignment_id: str
    sales_force: str
    effective_at: datetime  # UTC
    time_zone: str
    state: str
    created_by: str
    created_at: datetime
    done_at: datetime | None = None
    done_by: str | None = None
    outcome: str | None = None
    attempts: int = 0

    @classmethod
    def new(
        cls, tenant_id: str, alignment_id: str, sales_force: str, effective_at: datetime, time_zone: str, by: str
    ) -> PublishSchedule:
        return cls(
            id=str(uuid.uuid4()),
            tenant_id=tenant_id,
            alignment_id=alignment_id,
            sales_force=sales_force,
            effective_at=effective_at,
            time_zone=time_zone,
            state=SCHEDULED,
            created_by=by,
            created_at=datetime.now(UTC),
        )

    @property
    def local_time(self) -> str:
        """The instant as wall-clock time in the schedule's zone, ISO 8601 without offset."""
        return as_utc(self.effective_at).astimezone(ZoneInfo(self.time_zone)).replace(tzinfo=None).isoformat()

    def require_scheduled(self, action: str) -> None:
        if self.state != SCHEDULED:
            raise Conflict(
                f"Schedule {self.id} is {self.state}: only a scheduled publish can be {action}.", state=self.state
            )
