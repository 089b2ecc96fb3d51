"""What the fault-injection tests share: a tenant with North Carolina's counties in two territories, accounts
to push, and a reading of everything that follows from them (assignments, events on the topics,
metrics-service's projections), to compare a disturbed run with what an undisturbed one gives.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import libpysal
from kafka import KafkaConsumer

from tests.e2e.assignment_platform import DistributedAssignmentPlatform, draft, import_nc, publish
from tests.support.auth import auth_headers
from tests.support.databases import fetch_all, fetch_snapshot

NC_BOX = (-84.3, 33.8, -75.5, 36.6)  # lon/lat box of North Carolina; some points fall in the sea or next door


def nc_counties() -> list[str]:
    dbf = libpysal.io.open(libpysal.examples.get_path("sids2.dbf"))
    try:
        return sorted(str(r[dbf.header.index("FIPS")]) for r in dbf)
    finally:
        dbf.close()


def plans() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Two alignments of the 100 counties: the second moves 20 counties from EAST to WEST."""
    counties = nc_counties()
    first = {"WEST": counties[:50], "EAST": counties[50:]}
    second = {"WEST": counties[:70], "EAST": counties[70:]}
    return first, second


def accounts(n: int = 10_000, seed: int = 7, potential_of: int = 0) -> list[dict]:
    rnd = random.Random(seed)
    west, south, east, north = NC_BOX
    return [
        {
            "external_id": f"acct-{i:05d}",
            "lon": round(rnd.uniform(west, east), 5),
            "lat": round(rnd.uniform(south, north), 5),
            "potential": float((i * 37 + potential_of) % 101),
        }
        for i in range(n)
    ]


def ndjson(rows: list[dict]) -> bytes:
    return "\n".join(json.dumps(r) for r in rows).encode()


@dataclass
class Tenant:
    name: str
    headers: dict[str, str]
    layer: str


def new_tenant(p: DistributedAssignmentPlatform, folder: Path, label: str) -> Tenant:
    """A tenant with the NC layer, the first alignment published and a rep on each territory."""
    name = f"{label}-{uuid.uuid4().hex[:8]}"
    headers = auth_headers(name)
    with (
        httpx.Client(base_url=p.geo_url, headers=headers, timeout=120) as geo,
        httpx.Client(base_url=p.assignment_url, headers=headers, timeout=120) as assignment,
    ):
        layer = import_nc(geo, folder)
        first, _ = plans()
        alignment = draft(geo, layer, first)  # its territories first: a roster names one that exists
        for rep, code in (("ana", "WEST"), ("bob", "EAST")):
            assert assignment.put(f"/v1/reps/{rep}", json={"name": rep}).status_code == 201
            entry = {"sales_force": "field", "territory_code": code, "rep_external_id": rep}
            assert assignment.post("/v1/roster-entries", json=entry).status_code == 201
        publish(geo, assignment, alignment)
    return Tenant(name, headers, layer)


def upsert(p: DistributedAssignmentPlatform, tenant: Tenant, rows: list[dict]) -> dict:
    r = httpx.post(
        f"{p.assignment_url}/v1/accounts/bulk",
        content=ndjson(rows),
        headers={**tenant.headers, "content-type": "application/x-ndjson"},
        timeout=600,
    )
    assert r.status_code == 200, r.text
    return r.json()


def assignments(p: DistributedAssignmentPlatform, tenant: Tenant) -> dict[str, tuple[str | None, str | None]]:
    rows = fetch_all(
        p.assignment_db,
        "SELECT a.external_id, a.territory_code, r.external_id AS rep FROM assignments a "
        "LEFT JOIN reps r ON r.id = a.rep_id WHERE a.tenant_id = :t AND a.sales_force = 'field'",
        t=tenant.name,
    )
    return {str(r["external_id"]): (r["territory_code"], r["rep"]) for r in rows}  # type: ignore[misc]


def runs(p: DistributedAssignmentPlatform, tenant: Tenant) -> list[dict[str, object]]:
    return fetch_all(
        p.assignment_db,
        "SELECT id, alignment_id, status, accounts_moved FROM realignment_runs WHERE tenant_id = :t "
        "ORDER BY started_at",
        t=tenant.name,
    )


def metrics(p: DistributedAssignmentPlatform, tenant: Tenant) -> dict[str, object]:
    """metrics-service's projections of the tenant's accounts and their owners in ``field``; counters of applied
    events included, so an event applied twice shows."""
    # One snapshot: the consumer applies events meanwhile, and counters read after the rows would count
    # changes the rows do not show yet.
    accounts, owners, revision = fetch_snapshot(
        p.metrics_db,
        [
            "SELECT account_id, external_id, version, deleted, values FROM account_projection WHERE tenant_id = :t",
            "SELECT account_id, territory_code FROM ownership_projection "
            "WHERE tenant_id = :t AND sales_force = 'field'",
            "SELECT accounts, rosters FROM tenant_revision WHERE tenant_id = :t",
        ],
        t=tenant.name,
    )
    owner = {str(o["account_id"]): o["territory_code"] for o in owners}
    per_territory: dict[str, int] = {}
    for a in accounts:
        code = owner.get(str(a["account_id"]))
        if not a["deleted"] and code is not None:
            per_territory[str(code)] = per_territory.get(str(code), 0) + 1
    return {
        "accounts": {
            # A deleted account's last figures do not count anywhere (and a tombstone has none).
            str(a["external_id"]): (a["version"], a["deleted"], None, None)
            if a["deleted"]
            else (a["version"], a["deleted"], owner.get(str(a["account_id"])), _values(a["values"]))
            for a in accounts
        },
        # Live accounts per owning territory, as metrics-service counts them.
        "owners": per_territory,
        "events_applied": (revision[0]["accounts"], revision[0]["rosters"]) if revision else (0, 0),
    }


def owners_per_territory(owners: dict[str, tuple[str | None, str | None]]) -> dict[str, int]:
    """Accounts per territory code from assignment-service's assignments (``assignments``)."""
    out: dict[str, int] = {}
    for code, _ in owners.values():
        if code is not None:
            out[code] = out.get(code, 0) + 1
    return out


def told_in_a_chain(events: list[dict]) -> bool:
    """Each account's reassignments, in the order told, pick up where the previous one left off, from no owner:
    none lost, none told twice."""
    last: dict[str, tuple[str | None, str | None]] = {}
    for e in events:
        if e["type"] != "assignment.account.reassigned.v1":
            continue
        d = e["data"]
        before = last.get(d["account_id"], (None, None))
        if (d["from_territory_code"], d["from_rep_id"]) != before:
            return False
        last[d["account_id"]] = (d["to_territory_code"], d["to_rep_id"])
    return True


def _values(v: object) -> dict[str, float]:
    return json.loads(v) if isinstance(v, str) else dict(v)  # type: ignore[call-overload]


def pending(database: str) -> int:
    return int(fetch_all(database, "SELECT count(*) AS n FROM outbox WHERE published_at IS NULL")[0]["n"])  # type: ignore[call-overload]


def published(database: str) -> int:
    return int(fetch_all(database, "SELECT count(*) AS n FROM outbox WHERE published_at IS NOT NULL")[0]["n"])  # type: ignore[call-overload]


def topic(p: DistributedAssignmentPlatform, name: str, tenant: Tenant) -> list[dict]:
    """The tenant's events on a topic, each once (a relay that crashed may have sent a batch twice: consumers
    drop the copies by event id, and so does this reading)."""
    consumer = KafkaConsumer(
        p.prefix + name,
        bootstrap_servers=p.kafka,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=8000,
        max_poll_records=5000,
    )
    seen: dict[str, dict] = {}
    try:
        for record in consumer:
            event = json.loads(record.value)
            if event["tenantid"] == tenant.name:
                seen.setdefault(event["id"], event)
    finally:
        consumer.close()
    return list(seen.values())


def reassignments(events: list[dict]) -> list[tuple]:
    """(external id, from, to, to rep, trigger) of each reassignment, sorted (None before any value)."""
    told = [
        (
            e["data"]["external_id"],
            e["data"]["from_territory_code"],
            e["data"]["to_territory_code"],
            e["data"]["to_rep_external_id"],
            e["data"]["trigger"],
        )
        for e in events
        if e["type"] == "assignment.account.reassigned.v1"
    ]
    return sorted(told, key=lambda t: tuple((x is not None, x or "") for x in t))


def execute(database_url: str, sql: str, **params: object) -> None:
    """Change a service's database behind its back (to hold an event back, then let it go)."""
    from sqlalchemy import NullPool, text
    from sqlalchemy.ext.asyncio import create_async_engine

    from tests.support.aio import run_coroutine

    async def run() -> None:
        engine = create_async_engine(database_url, poolclass=NullPool)
        try:
            async with engine.begin() as conn:
                await conn.execute(text(sql), params)
        finally:
            await engine.dispose()

    run_coroutine(run())
