"""The embedded platform in-process, one tenant's view of it, and the independent truth of who owns what.

``Tenant`` calls the three services' real HTTP APIs (through a ``TestClient`` of the embedded app); ``truth``
computes each territory's accounts, potential, primary rep and reps from assignment-service's own records only
(assignments, accounts, roster entries, reps), without its ownership endpoint or metrics-service.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
import zipfile
from collections import defaultdict
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import libpysal
import shapely
from fastapi.testclient import TestClient

from tests.support.auth import auth_headers

T = TypeVar("T")
SETTLE_DEADLINE_S = 20.0


class Unexpected(AssertionError):
    """A call answered a status the harness did not expect."""


def eventually(check: Callable[[], T | None], deadline_s: float, what: str) -> T:
    deadline = time.monotonic() + deadline_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {deadline_s}s: {what}")
        time.sleep(0.05)


def nc_archive(folder: Path) -> Path:
    shp = Path(libpysal.examples.get_path("sids2.shp"))
    out = folder / "sids2.zip"
    if not out.exists():
        with zipfile.ZipFile(out, "w") as z:
            for suffix in (".shp", ".shx", ".dbf"):
                z.write(shp.with_suffix(suffix), f"sids2{suffix}")
    return out


class Platform:
    """The embedded app (three services, SQLite, in-process bus) under one data folder."""

    # Faults a test may inject (a consumer killed, the broker stopped): none in one process.
    faults = False
    settle_deadline_s = SETTLE_DEADLINE_S

    def __init__(self, workdir: Path) -> None:
        from territory_embedded.app import create_embedded_app

        self.workdir = workdir
        self.data_dir = workdir / "data"
        self.client = TestClient(create_embedded_app(self.data_dir))

    def __enter__(self) -> Platform:
        self.client.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.__exit__(*exc)

    def tenant(self) -> Tenant:
        return Tenant(self, f"diff-{uuid.uuid4().hex[:10]}")

    def quiet(self) -> bool:
        """Every outbox sent and the bus log unchanged for a moment: what was published has been consumed."""
        for service in ("geo", "assignment", "metrics"):
            with closing(sqlite3.connect(self.data_dir / f"{service}.sqlite", timeout=30)) as db:
                if db.execute("SELECT count(*) FROM outbox WHERE published_at IS NULL").fetchone()[0]:
                    return False
        return True


class _Routes:
    """``request(method, "/geo/v1/...")`` to the process of the service the path names, as the embedded app's
    mounts do: the harness calls the same paths on both platforms."""

    def __init__(self, urls: dict[str, str]) -> None:
        self._urls = urls
        self._http = httpx.Client(timeout=300)

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        service, _, rest = path.lstrip("/").partition("/")
        return self._http.request(method, f"{self._urls[service]}/{rest}", **kw)

    def close(self) -> None:
        self._http.close()


class KafkaPlatform:
    """Each service as its own processes (API, relay, consumer) on PostGIS and a Kafka broker of its own, which
    the harness stops and starts; consumers are killed and restarted between steps."""

    faults = True
    # A restarted broker or consumer takes seconds to rejoin and catch up: the checks wait longer.
    settle_deadline_s = 180.0

    def __init__(self, workdir: Path) -> None:
        from tests.e2e.assignment_platform import DistributedAssignmentPlatform
        from tests.support.private_infra import PrivateKafka

        self.workdir = workdir
        self.broker = PrivateKafka(workdir)
        self.broker.start()
        self.p = DistributedAssignmentPlatform(workdir, kafka=self.broker.bootstrap)
        self.client = _Routes(
            {"geo": self.p.geo_url, "assignment": self.p.assignment_url, "metrics": self.p.metrics_url}
        )
        self.injected = {"consumer killed": 0, "broker stopped": 0}  # so a run can show its faults happened

    def __enter__(self) -> KafkaPlatform:
        self.p.start()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.client.close()
            self.p.close()
        finally:
            self.broker.close()

    def tenant(self) -> Tenant:
        return Tenant(self, f"diff-{uuid.uuid4().hex[:10]}")  # type: ignore[arg-type]

    def quiet(self) -> bool:
        from tests.support.databases import fetch_all

        pending = "SELECT count(*) AS n FROM outbox WHERE published_at IS NULL"
        return all(
            fetch_all(db, pending)[0]["n"] == 0 for db in (self.p.geo_db, self.p.assignment_db, self.p.metrics_db)
        )

    def kill_consumer(self, service: str) -> None:
        """Kill -9 a consumer (mid-batch, maybe) and start it again: the inbox applies what it had not."""
        process = self.p.consumer if service == "metrics" else self.p.assignment_consumer
        process.kill()
        process.start()
        self.injected["consumer killed"] += 1

    def stop_broker(self, meanwhile: Callable[[], None]) -> None:
        """Stop the broker, do ``meanwhile`` (writes land in the outboxes), start it again."""
        self.broker.stop()
        self.injected["broker stopped"] += 1
        try:
            meanwhile()
        finally:
            self.broker.start()


@dataclass
class Tenant:
    platform: Platform
    id: str
    headers: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.headers = auth_headers(self.id)

    def call(self, method: str, path: str, *, expect: tuple[int, ...] = (200,), **kw: Any) -> httpx.Response:
        headers = {**self.headers, **kw.pop("headers", {})}
        r = self.platform.client.request(method, path, headers=headers, **kw)
        if r.status_code not in expect:
            raise Unexpected(f"{method} {path} answered {r.status_code} (expected {expect}): {r.text[:2000]}")
        return r

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw).json()

    # -- geo-service ---------------------------------------------------------------------------------------

    def import_nc(self) -> str:
        archive = nc_archive(self.platform.workdir)
        r = self.call(
            "POST",
            "/geo/v1/layers",
            expect=(202,),
            files={"file": (archive.name, archive.read_bytes())},
            data={"name": "NC", "id_column": "FIPS", "attributes": "BIR74"},
        )
        job = self.wait_job("geo", r.json()["job_id"])
        return str(job["result"]["layer_id"])

    def wait_job(self, service: str, job_id: str, deadline_s: float = 120) -> dict[str, Any]:
        def done() -> dict[str, Any] | None:
            job = self.get(f"/{service}/v1/jobs/{job_id}")
            return job if job["status"] in ("succeeded", "failed", "interrupted", "cancelled") else None

        job = eventually(done, deadline_s, f"{service} job {job_id} finished")
        if job["status"] != "succeeded":
            raise Unexpected(f"{service} job {job_id} ended {job['status']}: {job}")
        return job

    def unit_points(self, layer_id: str) -> dict[str, tuple[float, float]]:
        """A point inside each unit (lon, lat), away from its borders."""
        out: dict[str, tuple[float, float]] = {}
        page = self.get(f"/geo/v1/layers/{layer_id}/units.geojson", params={"limit": 10_000})
        for f in page["features"]:
            geom = shapely.geometry.shape(f["geometry"])
            # The largest part's deepest point: never on a shared border.
            parts = list(getattr(geom, "geoms", [geom]))
            biggest = max(parts, key=lambda g: g.area)
            p = (
                shapely.polylabel(biggest, tolerance=1e-4)
                if hasattr(shapely, "polylabel")
                else biggest.point_on_surface()
            )
            out[f["properties"]["unit_id"]] = (round(p.x, 6), round(p.y, 6))
        return out

    def alignment(self, alignment_id: str) -> dict[str, Any]:
        return self.get(f"/geo/v1/alignments/{alignment_id}")

    def create_alignment(self, sales_force: str, *, layer_id: str | None = None, copy_from: str | None = None) -> str:
        body: dict[str, Any] = {"name": f"{sales_force}-{uuid.uuid4().hex[:6]}", "sales_force": sales_force}
        body |= {"layer_id": layer_id} if layer_id else {"copy_from": copy_from}
        return str(self.call("POST", "/geo/v1/alignments", expect=(201,), json=body).json()["id"])

    def create_territory(self, alignment_id: str, code: str) -> str:
        body = {"code": code, "name": code, "alignment_id": alignment_id}
        return str(self.call("POST", "/geo/v1/territories", expect=(201,), json=body).json()["id"])

    def territory_ids(self, alignment_id: str) -> dict[str, str]:
        """code -> id of the alignment's territories."""
        items = self.get("/geo/v1/territories", params={"alignment_id": alignment_id, "limit": 1000})["items"]
        return {t["code"]: t["id"] for t in items}

    def move(self, alignment_id: str, unit_ids: list[str], territory_id: str | None) -> None:
        version = self.alignment(alignment_id)["version"]
        self.call(
            "POST",
            f"/geo/v1/alignments/{alignment_id}/moves",
            json={"unit_ids": unit_ids, "territory_id": territory_id},
            headers={"If-Match": f'"{version}"'},
        )

    def publish(self, alignment_id: str, after_publishing: Callable[[], None] | None = None) -> dict[str, Any]:
        """Publish, then wait for assignment-service's realignment run of it; return the run."""
        version = self.alignment(alignment_id)["version"]
        self.call("POST", f"/geo/v1/alignments/{alignment_id}/publish", headers={"If-Match": f'"{version}"'})
        if after_publishing is not None:
            after_publishing()

        def completed() -> dict[str, Any] | None:
            runs = self.get("/assignment/v1/realignments", params={"limit": 500})
            return next((r for r in runs if r["alignment_id"] == alignment_id and r["status"] == "completed"), None)

        return eventually(completed, 300, f"the realignment of {alignment_id} completed")

    def active_alignment(self, sales_force: str) -> str | None:
        rows = self.get("/geo/v1/alignments", params={"sales_force": sales_force, "state": "active"})
        return rows[0]["id"] if rows else None

    def leaf_codes(self, alignment_id: str) -> set[str]:
        return set(self.territory_ids(alignment_id))

    # -- assignment-service --------------------------------------------------------------------------------

    def upsert_accounts(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        r = self.call("POST", "/assignment/v1/accounts/bulk", json=rows).json()
        if r.get("rejected"):
            raise Unexpected(f"accounts rejected: {r}")
        return r

    def save_rule_set(self, sales_force: str, rules: list[dict[str, Any]], fallback: str) -> None:
        r = self.call(
            "PUT",
            f"/assignment/v1/sales-forces/{sales_force}/rule-set",
            expect=(200, 202),
            json={"rules": rules, "fallback": fallback},
        )
        if r.status_code == 202 and "job" in r.json():
            self.wait_job("assignment", r.json()["job"]["id"])

    def assignments(self, sales_force: str) -> list[dict[str, Any]]:
        out, offset = [], 0
        while True:
            page = self.get(
                f"/assignment/v1/sales-forces/{sales_force}/assignments", params={"limit": 1000, "offset": offset}
            )
            out += page["items"]
            if not page["next"]:
                return out
            offset += 1000

    def accounts(self) -> list[dict[str, Any]]:
        out, after = [], None
        while True:
            page = self.get("/assignment/v1/accounts", params={"limit": 1000} | ({"after": after} if after else {}))
            out += page["items"]
            if not page["next"]:
                return out
            after = page["items"][-1]["id"]

    def reps(self) -> list[dict[str, Any]]:
        return self.get("/assignment/v1/reps", params={"limit": 1000})

    def roster(self, sales_force: str) -> list[dict[str, Any]]:
        return self.get("/assignment/v1/roster-entries", params={"sales_force": sales_force})

    def ownership(self, sales_force: str) -> dict[str, Any]:
        return self.get(f"/assignment/v1/sales-forces/{sales_force}/ownership")

    # -- metrics-service -----------------------------------------------------------------------------------

    def consistency(self, sales_force: str) -> dict[str, Any]:
        return self.get(f"/metrics/v1/sales-forces/{sales_force}/consistency")

    def metrics(self, alignment_id: str) -> dict[str, Any] | None:
        r = self.call("GET", f"/metrics/v1/alignments/{alignment_id}/metrics", expect=(200, 404))
        return r.json() if r.status_code == 200 else None


# -- the truth, from assignment-service's records -------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """One territory's figures: what metrics-service should show for it."""

    accounts: int
    potential: float
    primary_rep_id: str | None
    reps: int


def truth(tenant: Tenant, sales_force: str, leaves: set[str], today: date | None = None) -> dict[str | None, Figures]:
    """Per leaf territory code (None: what no leaf holds) from assignments, accounts, roster entries and reps.

    An account pinned to a code the alignment lacks is held by no territory of it, so it counts as None."""
    day = today or datetime.now(UTC).date()
    potential = {a["external_id"]: float(a["potential"] or 0.0) for a in tenant.accounts()}
    counts: dict[str | None, int] = defaultdict(int)
    sums: dict[str | None, float] = defaultdict(float)
    for row in tenant.assignments(sales_force):
        code = row["territory_code"] if row["territory_code"] in leaves else None
        counts[code] += 1
        sums[code] += potential.get(row["external_id"], 0.0)
    active = {r["id"] for r in tenant.reps() if r["active"] and not r["deleted"]}
    in_effect = [
        e
        for e in tenant.roster(sales_force)
        if e["rep_id"] in active
        and date.fromisoformat(e["effective_from"]) <= day
        and (e["effective_to"] is None or date.fromisoformat(e["effective_to"]) > day)
    ]
    primary: dict[str, str] = {}
    # The latest start wins, then the smallest rep external id (assignment-service's and metrics-service's pick).
    for e in sorted(
        in_effect, key=lambda e: (-date.fromisoformat(e["effective_from"]).toordinal(), e["rep_external_id"])
    ):
        if e["role"] == "primary":
            primary.setdefault(e["territory_code"], e["rep_id"])
    reps: dict[str, set[str]] = defaultdict(set)
    for e in in_effect:
        reps[e["territory_code"]].add(e["rep_id"])
    out: dict[str | None, Figures] = {}
    for code in [*sorted(leaves), None]:
        out[code] = Figures(
            counts.get(code, 0),
            round(sums.get(code, 0.0), 6),
            primary.get(code) if code else None,
            len(reps.get(code, ())) if code else 0,
        )
    return out


def shown(body: dict[str, Any]) -> dict[str | None, Figures]:
    """The same figures as metrics-service shows them for an alignment."""
    out: dict[str | None, Figures] = {}
    for t in body["territories"]:
        if t["leaf"]:
            v = t["values"]
            out[t["code"]] = Figures(
                int(round(v.get("account_count", 0.0))),
                round(v.get("account_potential", 0.0), 6),
                t["primary_rep_id"],
                t["reps"],
            )
    white = body["white_space"]["values"]
    out[None] = Figures(
        int(round(white.get("account_count", 0.0))), round(white.get("account_potential", 0.0), 6), None, 0
    )
    return out


def differences(expected: dict[str | None, Figures], got: dict[str | None, Figures], what: str) -> list[str]:
    """Readable differences: territory, field, what ``what`` shows and the truth."""
    out = []
    for code in sorted(set(expected) | set(got), key=lambda c: (c is None, c or "")):
        name = code or "(no territory / white space)"
        if code not in got:
            out.append(f"{name}: missing from {what} (truth {expected[code]})")
            continue
        if code not in expected:
            out.append(f"{name}: {what} shows a territory the truth lacks ({got[code]})")
            continue
        e, g = expected[code], got[code]
        for attr in ("accounts", "potential", "primary_rep_id", "reps"):
            a, b = getattr(g, attr), getattr(e, attr)
            same = abs(a - b) <= 1e-6 * max(1.0, abs(b)) if attr == "potential" else a == b
            if not same:
                out.append(f"{name}.{attr}: {what} shows {a!r}, truth is {b!r}")
    return out
