from __future__ import annotations

import json

import pytest
from pydantic import ValidationError
from territory_shared.events.contracts import CONTRACTS, contract_for
from territory_shared.events.envelope import CloudEvent, new_event
from territory_shared.events.geo import TerritoryCreatedV1
from territory_shared.events.schemas import DEFAULT_OUT, render


def test_a_new_event_is_a_cloudevent_with_the_tenant_extension():
    data = TerritoryCreatedV1(territory_id="t1", code="A", name="a", version=1)
    event = new_event(source="/geo-service", type="geo.territory.created.v1", subject="t1", tenant_id="acme", data=data)
    wire = json.loads(event.to_bytes())
    assert wire["specversion"] == "1.0" and wire["tenantid"] == "acme" and wire["subject"] == "t1"
    assert wire["datacontenttype"] == "application/json"
    assert CloudEvent.from_bytes(event.to_bytes()) == event


def test_an_envelope_without_a_tenant_is_refused():
    with pytest.raises(ValidationError, match="tenantid"):
        CloudEvent.model_validate(
            {
                "id": "1",
                "source": "/x",
                "type": "t",
                "subject": "s",
                "time": "2026-01-01T00:00:00Z",
                "data": {},
            }
        )


def test_event_types_are_versioned_past_tense_nouns_on_their_aggregate_topic():
    for event_type, contract in CONTRACTS.items():
        service, aggregate, verb, version = event_type.split(".")
        # Past tense: regular verbs end in -ed; the irregular ones in use are listed.
        assert version.startswith("v") and verb.endswith(("ed", "overridden"))
        assert contract.topic == f"{service}.{aggregate}"
    assert contract_for("geo.territory.created.v1").model is TerritoryCreatedV1


def test_committed_json_schemas_and_asyncapi_match_the_contracts():
    """``make schemas`` regenerates them; a contract change without it fails here."""
    for name, content in render().items():
        path = DEFAULT_OUT / name
        assert path.exists(), f"{path} is missing: run make schemas"
        assert path.read_text() == content, f"{path} is stale: run make schemas"
