"""An account's fields are listed once (``domain.accounts``): the record, the event and the API follow it."""

from __future__ import annotations

from assignment_service.api.schemas import AccountRead
from assignment_service.db.records import AccountRecord
from assignment_service.domain.accounts import ACCOUNT_FIELDS, FACTS, Account
from assignment_service.use_cases.upsert_accounts import upserted_data
from territory_shared.events.assignment import AccountUpsertedV1


def _account() -> Account:
    return Account(
        id="a-1",
        external_id="ACME",
        name="Acme",
        lat=35.2,
        lon=-80.8,
        zip="28202",
        location_precision="exact",
        potential=1200.0,
        revenue=None,
        industry="healthcare",
        size="M",
        visits_per_year=4.0,
        workload_hours=None,
        custom={"beds": 120.0},
        version=3,
    )


def test_the_record_has_a_column_for_every_field_of_an_account_and_no_other_but_its_bookkeeping():
    columns = {c.name for c in AccountRecord.__table__.columns}

    assert columns == {*ACCOUNT_FIELDS, "tenant_id", "deleted_at", "updated_at"}


def test_the_facts_are_the_fields_of_an_account_but_its_ids_and_version():
    assert set(FACTS) == set(ACCOUNT_FIELDS) - {"id", "external_id", "version"}


def test_the_api_reads_every_field_of_an_account_with_its_id_first():
    assert list(AccountRead.model_fields) == ["id", *(f for f in ACCOUNT_FIELDS if f != "id"), "deleted", "updated_at"]


def test_the_upserted_event_takes_its_fields_from_the_account_in_the_contract_s_order():
    data = upserted_data(_account())

    assert list(data) == list(AccountUpsertedV1.model_fields)
    assert data["account_id"] == "a-1" and data["version"] == 3 and data["zip"] == "28202"
    assert AccountUpsertedV1.model_validate(data).potential == 1200.0


def test_every_field_the_upserted_event_tells_is_a_field_of_the_account():
    assert set(AccountUpsertedV1.model_fields) - {"account_id"} <= set(ACCOUNT_FIELDS)
