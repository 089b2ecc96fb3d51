"""The audit rows a unit of work writes for the events it stages, and the actor the events carry."""

from __future__ import annotations

from collections import Counter

from territory_shared.actor import SYSTEM, acting_as, current_actor
from territory_shared.audit import audit_rows
from territory_shared.events.envelope import encode_event, new_event
from territory_shared.events.geo import TerritoryDeletedV1


def _event(type_: str, subject: str, **data: object):
    event = new_event(
        source="/test",
        type=type_,
        subject=subject,
        tenant_id="acme",
        data=TerritoryDeletedV1(territory_id=subject, version=1),
    )
    return event.model_copy(update={"type": type_, "data": {**event.data, **data}})


def test_events_carry_the_actor_of_the_work_they_belong_to():
    assert current_actor() == SYSTEM
    with acting_as("alice"):
        assert (
            new_event(
                source="/t",
                type="x",
                subject="s",
                tenant_id="acme",
                data=TerritoryDeletedV1(territory_id="s", version=1),
            ).actor
            == "alice"
        )
        with acting_as("bob"):
            assert current_actor() == "bob"
        assert current_actor() == "alice"
    assert current_actor() == SYSTEM


def test_the_fast_encoding_gives_the_same_bytes_with_the_actor():
    with acting_as("api-key:Salesforce sync"):
        event = new_event(
            source="/t", type="x", subject="s", tenant_id="acme", data=TerritoryDeletedV1(territory_id="s", version=1)
        )
        fast = encode_event(
            event_id=event.id,
            source="/t",
            type="x",
            subject="s",
            time=event.time,
            tenant_id="acme",
            data=event.data,
        )
    assert fast == event.to_bytes()


def test_one_row_per_event_and_one_per_type_for_the_events_told_per_account():
    with acting_as("alice"):
        events = [_event("geo.territory.deleted.v1", "t1")] + [
            _event("assignment.account.reassigned.v1", f"a{i}") for i in range(3)
        ]
    rows = audit_rows(events, bulk=Counter({("acme", "alice", "assignment.account.reassigned.v1"): 100}))
    assert [(r["actor"], r["action"], r["subject"], r["count"]) for r in rows] == [
        ("alice", "geo.territory.deleted.v1", "t1", 1),
        ("alice", "assignment.account.reassigned.v1", None, 103),
    ]
    assert rows[0]["details"] == {"territory_id": "t1", "version": 1}


def test_long_details_are_summarised():
    event = _event("geo.alignment.published.v1", "al", changes=[{"unit_id": str(i)} for i in range(500)])
    (row,) = audit_rows([event])
    assert row["details"]["changes"] == {"items": 500} and row["actor"] == SYSTEM
    big = _event("geo.territory.renamed.v1", "t", name="x" * 10_000)
    (row,) = audit_rows([big])
    assert row["details"].get("truncated") is True and "name" not in row["details"]
