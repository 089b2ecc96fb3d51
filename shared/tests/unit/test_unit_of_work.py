"""The unit of work every service subclasses: changes, outbox rows and audit rows commit together, or not at all."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import MetaData, select
from territory_shared.audit import AUDIT
from territory_shared.db.engine import create_engine, create_session_factory
from territory_shared.db.unit_of_work import UnitOfWork
from territory_shared.events.assignment import RepUpsertedV1
from territory_shared.events.geo import TerritoryRenamedV1
from territory_shared.messaging.tables import outbox_table

METADATA = MetaData()
OUTBOX = outbox_table(METADATA)


class ServiceUnitOfWork(UnitOfWork):
    source = "/test-service"
    outbox = OUTBOX


@pytest.fixture
async def sessions(tmp_path):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'uow.sqlite'}")
    async with engine.begin() as conn:
        await conn.run_sync(METADATA.create_all)
        await conn.run_sync(AUDIT.metadata.create_all)
    yield create_session_factory(engine)
    await engine.dispose()


def _renamed(version: int = 1) -> TerritoryRenamedV1:
    return TerritoryRenamedV1(territory_id="t-1", code="NE-01", name="Boston", version=version)


async def _rows(sessions, table):
    async with sessions() as session:
        return (await session.execute(select(table))).all()


async def test_a_commit_writes_the_events_to_the_outbox_and_the_audit_log_and_tells_the_relay(sessions):
    told = []
    uow = ServiceUnitOfWork(sessions, lambda: told.append(True))

    async with uow:
        event = uow.emit("tenant-a", "t-1", _renamed())
        await uow.commit()

    (row,) = await _rows(sessions, OUTBOX)
    assert (row.event_id, row.event_type, row.key) == (event.id, "geo.territory.renamed.v1", "t-1")
    assert json.loads(row.payload)["source"] == "/test-service"
    (audit,) = await _rows(sessions, AUDIT)
    assert (audit.tenant_id, audit.action, audit.subject, audit.count) == ("tenant-a", event.type, "t-1", 1)
    assert told == [True]


async def test_leaving_without_a_commit_writes_nothing_and_tells_no_one(sessions):
    told = []
    async with ServiceUnitOfWork(sessions, lambda: told.append(True)) as uow:
        uow.emit("tenant-a", "t-1", _renamed())

    assert await _rows(sessions, OUTBOX) == []
    assert await _rows(sessions, AUDIT) == []
    assert told == []


async def test_events_emitted_by_the_thousand_are_written_as_outbox_rows_and_summed_in_the_audit_log(sessions):
    uow = ServiceUnitOfWork(sessions, lambda: None)
    datas = [
        {
            "rep_id": f"r-{i}",
            "external_id": f"R{i}",
            "version": 1,
            "name": None,
            "capacity_hours": 1600.0,
            "role": None,
            "active": True,
            "home_lat": None,
            "home_lon": None,
        }
        for i in range(3)
    ]
    async with uow:
        uow.emit_many("tenant-a", RepUpsertedV1, [d["rep_id"] for d in datas], datas)
        await uow.commit()

    rows = await _rows(sessions, OUTBOX)
    assert sorted(r.key for r in rows) == ["r-0", "r-1", "r-2"]
    payload = json.loads(rows[0].payload)
    assert payload["type"] == "assignment.rep.upserted.v1" and payload["tenantid"] == "tenant-a"
    assert RepUpsertedV1.model_validate(payload["data"]).capacity_hours == 1600.0
    (audit,) = await _rows(sessions, AUDIT)
    assert (audit.action, audit.subject, audit.count) == ("assignment.rep.upserted.v1", None, 3)


async def test_emit_many_refuses_data_that_is_not_exactly_the_contract_s_fields(sessions):
    async with ServiceUnitOfWork(sessions, lambda: None) as uow:
        with pytest.raises(ValueError, match="exactly its fields"):
            uow.emit_many("tenant-a", RepUpsertedV1, ["r-1"], [{"rep_id": "r-1"}])


async def test_inside_someone_else_s_transaction_a_commit_stages_the_events_for_its_owner_to_commit(sessions):
    async with sessions() as session:
        uow = ServiceUnitOfWork.in_session(session)
        async with uow:
            uow.emit("tenant-a", "t-1", _renamed())
            await uow.commit()
        await session.rollback()  # the owner gave up: nothing was committed
    assert await _rows(sessions, OUTBOX) == []

    async with sessions() as session:
        uow = ServiceUnitOfWork.in_session(session)
        async with uow:
            uow.emit("tenant-a", "t-1", _renamed(2))
            await uow.commit()
        await session.commit()
    assert len(await _rows(sessions, OUTBOX)) == 1
