"""Account search (each filter, and together, against a brute-force filter over the same data), paging, the rep
scope, refusals; assignment exports (CSV and XLSX read back) against the assignments; overrides listed and lifted."""

from __future__ import annotations

import csv
import io
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.support.auth import auth_headers, tenant_of
from tests.support.databases import fetch_all

from .conftest import save_rule_set, upsert
from .geography import (
    CHAPEL_HILL,
    CHARLOTTE,
    DURHAM,
    DURHAM_CITY,
    MECKLENBURG,
    RALEIGH,
    WAKE,
    draft,
    import_nc,
    publish,
    rep,
)

pytestmark = pytest.mark.postgis

PLACES = [RALEIGH, DURHAM_CITY, CHARLOTTE, CHAPEL_HILL, (-74.0, 35.0)]  # Orange and the sea are in no territory
NAMES = ["Acme Clinic", "ACME Hospital", "Blue Ridge Bank", "100% Care", "Under_score Labs", "=HYPERLINK(1)", None]
INDUSTRIES = ["Healthcare", "healthcare", "retail", "Finance", None]
POTENTIALS = [None, 0, 500.0, 1e5, 2.5e5, 1e6]
N = 130


@pytest.fixture(scope="module")
def world(client, tmp_path_factory) -> dict[str, Any]:
    """Two sales forces over the same 130 accounts: ``field`` by geography with pinned key accounts, and an
    ``overlay`` that assigns only healthcare accounts; reps on both; everything read back as the brute force's
    truth (accounts from their listing, owners from the assignments' listing)."""
    tenant = auth_headers(f"t-search-{random.randrange(1 << 30):x}")
    layer = import_nc(client, tenant, tmp_path_factory.mktemp("nc"))
    publish(client, tenant, draft(client, tenant, layer, {"EAST": [WAKE, DURHAM], "WEST": [MECKLENBURG], "KEY": []}))
    publish(client, tenant, draft(client, tenant, layer, {"HC-EAST": [WAKE, DURHAM]}, sales_force="overlay"))
    reps = {
        "east": rep(client, tenant, "east", "EAST"),
        "west": rep(client, tenant, "west", "WEST"),
        "key": rep(client, tenant, "key", "KEY"),
        "hc": rep(client, tenant, "hc", "HC-EAST", sales_force="overlay"),
    }
    rule = {"name": "hc", "precedence": 1, "condition": "industry = healthcare", "geography": True}
    save_rule_set(client, tenant, {"fallback": "unassigned", "rules": [rule]}, "overlay")
    rng = random.Random(11)
    rows = []
    for i in range(N):
        lon, lat = rng.choice(PLACES)
        row = {"external_id": f"acc-{i:03d}", "lon": lon, "lat": lat, "industry": rng.choice(INDUSTRIES)}
        name, potential = rng.choice(NAMES), rng.choice(POTENTIALS)
        if name is not None:
            row["name"] = f"{name} {i}"
        if potential is not None:
            row["potential"] = potential
        rows.append(row)
    assert upsert(client, tenant, rows).status_code == 200
    for ext, body in (
        ("acc-001", {"territory_code": "KEY", "rep_external_id": "key"}),
        ("acc-002", {"territory_code": "KEY"}),
        ("acc-003", {"rep_external_id": "key"}),
    ):
        r = client.put(f"/v1/sales-forces/field/overrides/{ext}", json=body, headers=tenant)
        assert r.status_code == 200, r.text
    accounts = {a["external_id"]: a for a in everything(client, tenant, "/v1/accounts?limit=1000")}
    owners = {
        sf: {
            a["external_id"]: (a["territory_code"], a["rep_id"], a["cause"])
            for a in client.get(f"/v1/sales-forces/{sf}/assignments?limit=10000", headers=tenant).json()["items"]
        }
        for sf in ("field", "overlay")
    }
    assert len(accounts) == N and all(len(o) == N for o in owners.values())
    # The data exercises every filter: each sales force has assigned and unassigned accounts, several reps.
    assert {t for t, _, _ in owners["field"].values()} == {"EAST", "WEST", "KEY", None}
    assert {t for t, _, _ in owners["overlay"].values()} == {"HC-EAST", None}
    assert owners["field"]["acc-003"][1] == reps["key"] and owners["field"]["acc-003"][0] != "KEY"
    return {"tenant": tenant, "accounts": accounts, "owners": owners, "reps": reps}


def everything(client, headers: dict[str, str], url: str) -> list[dict]:
    """Every item, following ``next``; checks the cursor and that a page is never over its limit."""
    out: list[dict] = []
    while url:
        r = client.get(url, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        out += page["items"]
        url = page["next"]
        assert page["next_cursor"] == (page["items"][-1]["id"] if url else None)
    return out


def brute_force(world: dict[str, Any], params: dict[str, Any], visible_to: str | None = None) -> list[str]:
    """The external ids, in account id order, of the accounts meeting ``params``, computed in Python."""
    reps, owners = world["reps"], world["owners"]
    sf = params.get("sales_force")
    rep_id = reps.get(params["rep"], params["rep"]) if "rep" in params else None
    out = []
    for ext, a in world["accounts"].items():
        theirs = {sf_name: o[ext] for sf_name, o in owners.items()}
        if visible_to is not None and not any(r == visible_to for _, r, _ in theirs.values()):
            continue
        if "name" in params and params["name"].lower() not in (a["name"] or "\0").lower():
            continue
        if "external_id" in params and ext != params["external_id"]:
            continue
        if "industry" in params and (a["industry"] or "").lower() != params["industry"].lower():
            continue
        if "potential_min" in params and (a["potential"] is None or a["potential"] < params["potential_min"]):
            continue
        if "potential_max" in params and (a["potential"] is None or a["potential"] > params["potential_max"]):
            continue
        if sf is None:
            if rep_id is not None and not any(r == rep_id for _, r, _ in theirs.values()):
                continue
        else:
            territory, owner_rep, _ = theirs[sf]
            if "territory_code" in params and territory != params["territory_code"]:
                continue
            if rep_id is not None and owner_rep != rep_id:
                continue
            if "unassigned" in params and (territory is None) != params["unassigned"]:
                continue
        out.append(a)
    return [a["external_id"] for a in sorted(out, key=lambda a: a["id"])]


def query(params: dict[str, Any]) -> str:
    return "&".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in params.items())


SEARCHES = [
    {"name": "acme"},
    {"name": "%"},  # a LIKE wildcard is searched for as itself
    {"name": "_score"},
    {"external_id": "acc-005"},
    {"industry": "HEALTHCARE"},
    {"potential_min": 1e5},
    {"potential_max": 1e5},
    {"potential_min": 500, "potential_max": 2.5e5},
    {"potential_min": 0, "potential_max": 0},
    {"sales_force": "field"},
    {"sales_force": "field", "territory_code": "EAST"},
    {"sales_force": "field", "territory_code": "KEY"},
    {"sales_force": "field", "unassigned": True},
    {"sales_force": "field", "unassigned": False},
    {"sales_force": "overlay", "unassigned": True},
    {"sales_force": "overlay", "unassigned": False},
    {"rep": "key"},  # by external id, in any sales force
    {"rep": "hc-id"},  # by id
    {"sales_force": "overlay", "rep": "east"},
    {"sales_force": "field", "rep": "key"},
    {"sales_force": "field", "territory_code": "EAST", "rep": "east", "potential_max": 2.5e5, "name": "a"},
    {"sales_force": "overlay", "unassigned": False, "industry": "healthcare", "potential_min": 500},
    {"sales_force": "field", "unassigned": True, "rep": "key"},
    {"name": "clinic", "industry": "healthcare", "rep": "east", "potential_min": 0},
]


@pytest.mark.parametrize("params", SEARCHES, ids=query)
def test_each_filter_and_their_combinations_give_what_a_brute_force_filter_gives(client, world, params):
    params = {k: (world["reps"]["hc"] if v == "hc-id" else v) for k, v in params.items()}
    expected = brute_force(world, params)
    found = [a["external_id"] for a in everything(client, world["tenant"], f"/v1/accounts?limit=7&{query(params)}")]
    assert found == expected
    if set(params) != {"sales_force"}:  # which only says where the owner filters look
        assert len(expected) < N


def test_the_searches_above_are_not_trivially_empty(world):
    non_empty = [p for p in SEARCHES if brute_force(world, {k: v for k, v in p.items() if v != "hc-id"})]
    assert len(non_empty) >= len(SEARCHES) - 2, [p for p in SEARCHES if p not in non_empty]


def test_paging_through_every_account_gives_each_once_and_the_default_page_is_100(client, world):
    tenant = world["tenant"]
    first = client.get("/v1/accounts", headers=tenant).json()
    assert len(first["items"]) == 100 and first["next_cursor"] == first["items"][-1]["id"]
    rest = everything(client, tenant, f"/v1/accounts?after={first['next_cursor']}")
    ids = [a["id"] for a in first["items"] + rest]
    assert len(ids) == len(set(ids)) == N and ids == sorted(ids)
    for limit in (1, 13, 1000):
        paged = [a["external_id"] for a in everything(client, tenant, f"/v1/accounts?limit={limit}")]
        assert sorted(paged) == sorted(world["accounts"]) and len(paged) == N


def test_a_rep_finds_only_the_accounts_assigned_to_them_and_may_name_no_other_rep(client, world):
    tenant = tenant_of(world["tenant"])
    key = auth_headers(tenant, "rep", rep_id="key")
    mine = [a["external_id"] for a in everything(client, key, "/v1/accounts?limit=5")]
    assert mine == brute_force(world, {}, visible_to=world["reps"]["key"]) and len(mine) >= 2
    narrowed = {"sales_force": "field", "territory_code": "KEY", "rep": "key"}
    found = [a["external_id"] for a in everything(client, key, f"/v1/accounts?{query(narrowed)}")]
    assert found == brute_force(world, narrowed, visible_to=world["reps"]["key"])
    assert "acc-003" not in found and "acc-001" in found  # pinned to key outside KEY; pinned to key in KEY
    by_id = client.get(f"/v1/accounts?rep={world['reps']['key']}", headers=key)
    assert [a["external_id"] for a in by_id.json()["items"]] == mine
    for other in ("east", world["reps"]["east"], "nobody"):
        r = client.get(f"/v1/accounts?rep={other}", headers=key)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "rep", r.text
    # The overlay's rep finds their accounts by where they are in another sales force: a part of EAST's.
    hc = auth_headers(tenant, "rep", rep_id="hc")
    in_east = {"sales_force": "field", "territory_code": "EAST"}
    theirs = [a["external_id"] for a in everything(client, hc, f"/v1/accounts?{query(in_east)}")]
    assert theirs == brute_force(world, in_east, visible_to=world["reps"]["hc"])
    assert theirs and set(theirs) < set(brute_force(world, in_east))
    stranger = auth_headers(tenant, "rep", rep_id="not-a-rep")
    assert client.get("/v1/accounts", headers=stranger).json()["items"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ("potential_min=10&potential_max=5", "potential_min"),
        ("potential_min=nan", "potential_min"),
        ("limit=1001", "limit"),
        ("limit=0", "limit"),
        ("sales_force=nowhere", "sales_force"),
        ("sales_force=nowhere&territory_code=EAST", "sales_force"),
        ("territory_code=EAST", "sales_force"),
        ("unassigned=true", "sales_force"),
        ("sales_force=field&territory_code=EAST&unassigned=true", "unassigned"),
        ("rep=nobody", "rep"),
        ("name=", "name"),
    ],
)
def test_a_filter_that_cannot_hold_is_refused_naming_the_parameter(client, world, params, field):
    r = client.get(f"/v1/accounts?{params}", headers=world["tenant"])
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == [field]


def _utc(value: str | None) -> datetime | None:
    if not value:
        return None
    t = datetime.fromisoformat(value)
    return t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo else t


def expected_export(client, world: dict[str, Any], sales_force: str) -> list[tuple]:
    """The export's rows built from the other reads: accounts, the assignments' listing, reps, each history."""
    reps = {v: k for k, v in world["reps"].items()}
    # by_geography is in no other answer: read from the table.
    db = client.app.state.assignment.state.runtime.settings.database_url
    sql = "SELECT account_id, by_geography FROM assignments WHERE tenant_id = :t AND sales_force = :sf"
    flags = {
        r["account_id"]: bool(r["by_geography"])
        for r in fetch_all(db, sql, t=tenant_of(world["tenant"]), sf=sales_force)
    }
    out = []
    for ext, a in sorted(world["accounts"].items(), key=lambda kv: kv[1]["id"]):
        territory, rep_id, cause = world["owners"][sales_force][ext]
        history = client.get(f"/v1/accounts/{ext}/history?sales_force={sales_force}", headers=world["tenant"]).json()
        out.append(
            (
                ext,
                a["name"],
                territory,
                reps.get(rep_id),
                reps.get(rep_id),  # the reps are named after their external ids
                cause,
                flags[a["id"]],
                a["potential"],
                _utc(history[-1]["changed_at"]),
            )
        )
    return out


def test_the_csv_export_reads_back_as_the_assignments_of_the_sales_force(client, world):
    r = client.get("/v1/sales-forces/field/assignments.csv", headers=world["tenant"])
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == 'attachment; filename="assignments-field.csv"'
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert list(rows[0]) == [
        "account_external_id",
        "account_name",
        "territory_code",
        "rep_external_id",
        "rep_name",
        "cause",
        "by_geography",
        "potential",
        "assigned_since",
    ]
    got = [
        (
            x["account_external_id"],
            x["account_name"] or None,
            x["territory_code"] or None,
            x["rep_external_id"] or None,
            x["rep_name"] or None,
            x["cause"],
            {"true": True, "false": False}[x["by_geography"]],
            float(x["potential"]) if x["potential"] else None,
            _utc(x["assigned_since"]),
        )
        for x in rows
    ]
    assert got == expected_export(client, world, "field")
    assert {x["by_geography"] for x in rows} == {"true", "false"}  # the pinned accounts do not follow their unit


def test_the_xlsx_export_reads_back_as_the_assignments_and_a_name_like_a_formula_stays_text(client, world):
    r = client.get("/v1/sales-forces/overlay/assignments.xlsx", headers=world["tenant"])
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert int(r.headers["content-length"]) == len(r.content)
    sheet = load_workbook(io.BytesIO(r.content), read_only=True)["assignments"]
    header, *cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert header[-1] == "assigned_since (UTC)"
    expected = expected_export(client, world, "overlay")
    assert [tuple(row[:-1]) for row in cells] == [row[:-1] for row in expected]
    # Excel keeps times to the millisecond.
    assert all(abs(got[-1] - want[-1]) <= timedelta(milliseconds=1) for got, want in zip(cells, expected, strict=True))
    formulas = [row[1] for row in cells if row[1] and row[1].startswith("=")]
    assert formulas and all(isinstance(f, str) for f in formulas)
    for row in load_workbook(io.BytesIO(r.content))["assignments"].iter_rows(min_row=2):
        assert row[1].data_type == "s" or row[1].value is None


def test_an_export_takes_the_search_filters_and_a_rep_exports_only_their_rows(client, world):
    params = {"territory_code": "EAST", "potential_min": 500, "name": "a"}
    r = client.get(f"/v1/sales-forces/field/assignments.csv?{query(params)}", headers=world["tenant"])
    exported = [x["account_external_id"] for x in csv.DictReader(io.StringIO(r.text))]
    assert exported == brute_force(world, {"sales_force": "field", **params}) and exported
    east = auth_headers(tenant_of(world["tenant"]), "rep", rep_id="east")
    mine = list(csv.DictReader(io.StringIO(client.get("/v1/sales-forces/field/assignments.csv", headers=east).text)))
    expected = brute_force(world, {"sales_force": "field", "rep": "east"})
    assert [x["account_external_id"] for x in mine] == expected and expected
    assert {x["rep_external_id"] for x in mine} == {"east"}
    book = client.get("/v1/sales-forces/overlay/assignments.xlsx", headers=east)
    assert [row for row in load_workbook(io.BytesIO(book.content)).active.iter_rows(min_row=2)] == []


def test_an_export_of_an_unknown_sales_force_or_with_bad_filters_is_refused(client, world):
    tenant = world["tenant"]
    for suffix in ("csv", "xlsx"):
        r = client.get(f"/v1/sales-forces/nowhere/assignments.{suffix}", headers=tenant)
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
        r = client.get(f"/v1/sales-forces/field/assignments.{suffix}?potential_min=2&potential_max=1", headers=tenant)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "potential_min"


def test_a_planner_lists_a_sales_force_s_overrides_page_by_page_and_lifts_one(client, world):
    tenant = tenant_of(world["tenant"])
    planner = auth_headers(tenant, "planner")
    listed = []
    url = "/v1/sales-forces/field/overrides?limit=2"
    while url:
        page = client.get(url, headers=planner).json()
        assert len(page["items"]) <= 2
        listed += page["items"]
        url = page["next"]
    assert [(o["account_external_id"], o["territory_code"], o["rep_external_id"]) for o in listed] == [
        ("acc-001", "KEY", "key"),
        ("acc-002", "KEY", None),
        ("acc-003", None, "key"),
    ]
    assert listed[0]["rep_id"] == world["reps"]["key"] and listed[0]["sales_force"] == "field"
    assert {o["created_by"] for o in listed} == {"test-admin"}
    assert client.get("/v1/sales-forces/overlay/overrides", headers=planner).json()["items"] == []
    assert client.delete("/v1/sales-forces/field/overrides/acc-002", headers=planner).status_code == 204
    left = client.get("/v1/sales-forces/field/overrides", headers=planner).json()
    assert [o["account_external_id"] for o in left["items"]] == ["acc-001", "acc-003"] and left["next"] is None
    lifted = client.get("/v1/accounts/acc-002/assignments", headers=planner).json()
    assert next(a for a in lifted if a["sales_force"] == "field")["cause"] != "override"
    # Put back as it was, for the other tests of this module.
    r = client.put("/v1/sales-forces/field/overrides/acc-002", json={"territory_code": "KEY"}, headers=planner)
    assert r.status_code == 200
    again = client.get("/v1/sales-forces/field/overrides", headers=planner).json()["items"]
    assert [(o["account_external_id"], o["created_by"]) for o in again][1] == ("acc-002", "test-planner")
    assert client.get("/v1/sales-forces/nowhere/overrides", headers=planner).status_code == 404
    r = client.get("/v1/sales-forces/field/overrides?limit=1001", headers=planner)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "limit"
    rep_token = auth_headers(tenant, "rep", rep_id="key")
    assert client.get("/v1/sales-forces/field/overrides", headers=rep_token).status_code == 403
