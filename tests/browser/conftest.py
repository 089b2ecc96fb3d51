"""The web map in a real browser: Debian's Chromium driven by Playwright, against ``territory-embedded`` started
as a user would (its own port and data folder), with North Carolina's counties loaded through the public APIs.

Chromium missing is a failure, never a skip: ``bash scripts/infra/chromium-install.sh`` installs it.
"""

from __future__ import annotations

import importlib.util
import subprocess
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.auth import auth_headers
from tests.support.processes import ServiceProcess, free_port, wait_ready

REPO = Path(__file__).resolve().parents[2]
WEB_DIST = REPO / "web" / "dist"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
VIEWPORT = {"width": 1440, "height": 900}


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if ARTIFACTS.exists() and any(ARTIFACTS.glob("*.png")):
        terminalreporter.write_line(f"web map screenshots: {ARTIFACTS}")


class Platform:
    """The running embedded process and a tenant's view of its APIs."""

    def __init__(self, url: str, tenant: str) -> None:
        self.url = url
        self.tenant = tenant
        self.http = httpx.Client(base_url=url, headers=auth_headers(tenant), timeout=60)

    def ok(self, response: httpx.Response, status: int = 200) -> Any:
        assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
        return response.json() if response.content else None

    def alignment(self, alignment_id: str) -> dict[str, Any]:
        return self.ok(self.http.get(f"/geo/v1/alignments/{alignment_id}"))

    def units(self, alignment_id: str) -> dict[str, str | None]:
        """unit id -> territory code (None: white space)."""
        codes = {t["id"]: t["code"] for t in self.territories(alignment_id)}
        rows = self.ok(self.http.get(f"/geo/v1/alignments/{alignment_id}/units"))
        return {r["unit_id"]: codes.get(r["territory_id"]) for r in rows}

    def territories(self, alignment_id: str) -> list[dict[str, Any]]:
        return self.ok(self.http.get(f"/geo/v1/territories?alignment_id={alignment_id}&limit=1000"))["items"]

    def territory_id(self, alignment_id: str, code: str) -> str:
        return next(t["id"] for t in self.territories(alignment_id) if t["code"] == code)

    def move(self, alignment_id: str, unit_ids: list[str], code: str | None) -> dict[str, Any]:
        version = self.alignment(alignment_id)["version"]
        target = self.territory_id(alignment_id, code) if code else None
        return self.ok(
            self.http.post(
                f"/geo/v1/alignments/{alignment_id}/moves",
                json={"unit_ids": unit_ids, "territory_id": target},
                headers={"If-Match": f'"{version}"'},
            )
        )

    def balance(self, alignment_id: str, metric: str) -> dict[str, float]:
        """Leaf code -> 100 + deviation from the target (%) as metrics-service reports it, once it has our version."""
        version = self.alignment(alignment_id)["version"]
        applied = {a["alignment_id"]: a["version"] for a in self.ok(self.http.get("/metrics/v1/alignments"))}
        if applied.get(alignment_id, -1) < version:
            return {}
        body = self.ok(self.http.get(f"/metrics/v1/alignments/{alignment_id}/metrics?metric={metric}&tolerance=0.05"))
        return {
            t["code"]: round(100 + t["deviation_pct"], 1)
            for t in body["territories"]
            if t["leaf"] and t["deviation_pct"] is not None
        }

    def draft(self, name: str = "what-if") -> dict[str, Any]:
        return self.ok(
            self.http.post(
                "/geo/v1/alignments", json={"name": name, "sales_force": "field", "copy_from": self.active_id}
            ),
            201,
        )

    def import_nc(self, folder: Path, attributes: str) -> str:
        """North Carolina's counties as a layer, through the import job; the layer's id."""
        zipped = _nc_zip(folder)
        job = self.ok(
            self.http.post(
                "/geo/v1/layers",
                files={"file": (zipped.name, zipped.read_bytes())},
                data={"name": "NC counties", "id_column": "FIPS", "attributes": attributes},
            ),
            202,
        )
        deadline = time.monotonic() + 120
        while (status := self.ok(self.http.get(f"/geo/v1/jobs/{job['job_id']}")))["status"] not in (
            "succeeded",
            "failed",
        ):
            assert time.monotonic() < deadline, status
            time.sleep(0.1)
        assert status["status"] == "succeeded", status
        return str(status["result"]["layer_id"])

    def publish_by_longitude(self, layer_id: str) -> list[dict[str, Any]]:
        """Publish, for sales force `field`, the layer's units in TERRITORIES' four leaves (no regions), imported as
        CSV; the layer's units."""
        body = {"name": "Starting", "sales_force": "field", "layer_id": layer_id}
        alignment = self.ok(self.http.post("/geo/v1/alignments", json=body), 201)
        units: list[dict[str, Any]] = self.ok(self.http.get(f"/geo/v1/layers/{layer_id}/units?limit=1000"))["items"]
        rows = [f"{u['unit_id']},{_by_longitude(u['centroid'][0])}" for u in units]
        self.ok(
            self.http.put(
                f"/geo/v1/alignments/{alignment['id']}/assignments.csv",
                content=("unit_id,territory_code\n" + "\n".join(rows)).encode(),
                headers={"If-Match": f'"{alignment["version"]}"'},
            )
        )
        version = self.alignment(alignment["id"])["version"]
        self.ok(self.http.post(f"/geo/v1/alignments/{alignment['id']}/publish", headers={"If-Match": f'"{version}"'}))
        return units

    @property
    def active_id(self) -> str:
        active = self.ok(self.http.get("/geo/v1/alignments?sales_force=field&state=active"))
        assert len(active) == 1, active
        return active[0]["id"]


def _built_web_map() -> Path:
    if not (WEB_DIST / "index.html").is_file():
        # `make web` builds it; build here too so that a bare `pytest tests/browser` works.
        if not (REPO / "web" / "node_modules").is_dir():
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=REPO / "web", check=True)
        subprocess.run(["npm", "run", "build"], cwd=REPO / "web", check=True)
    assert (WEB_DIST / "index.html").is_file(), "the web map is not built: run `make web`"
    return WEB_DIST


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``territory-embedded`` on a free port and a fresh data folder, empty (no demo), serving the built map."""
    _built_web_map()
    work = tmp_path_factory.mktemp("embedded")
    port = free_port()
    args = ["-m", "territory_embedded.cli", "--port", str(port), "--data-dir", str(work / "data")]
    args += ["--log-format", "text"]
    # The demo loader (US counties) is not what these tests draw on: start empty where the CLI allows it.
    cli = importlib.util.find_spec("territory_embedded.cli")
    if cli and cli.origin and "--no-demo" in Path(cli.origin).read_text():
        args.append("--no-demo")
    process = ServiceProcess("territory-embedded", args, {"LOG_LEVEL": "WARNING"}, work).start()
    try:
        wait_ready(f"http://127.0.0.1:{port}/healthz", process, deadline_s=90)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.stop()


def _nc_zip(folder: Path) -> Path:
    import libpysal

    shp = Path(libpysal.examples.get_path("sids2.shp"))
    out = folder / "sids2.zip"
    with zipfile.ZipFile(out, "w") as z:
        for suffix in (".shp", ".shx", ".dbf"):
            z.write(shp.with_suffix(suffix), f"sids2{suffix}")
    return out


# Four leaf territories under two regions, by longitude: the mountains to the coast.
TERRITORIES = {"WEST": ("W", -200, -81.0), "PIEDMONT": ("W", -81.0, -79.5), "TRIANGLE": ("E", -79.5, -78.0),
               "COAST": ("E", -78.0, 200)}  # fmt: skip


def _by_longitude(lon: float) -> str:
    return next(code for code, (_, west, east) in TERRITORIES.items() if west <= lon < east)


@pytest.fixture(scope="session")
def platform(server: str, tmp_path_factory: pytest.TempPathFactory) -> Platform:
    """A tenant with NC counties, a published alignment for sales force `field` (2 regions, 4 territories)."""
    p = Platform(server, f"web-{uuid.uuid4().hex[:8]}")
    layer_id = p.import_nc(tmp_path_factory.mktemp("nc"), "BIR74,SID74,NWBIR74")
    alignment = p.ok(
        p.http.post("/geo/v1/alignments", json={"name": "Starting", "sales_force": "field", "layer_id": layer_id}), 201
    )
    regions = {}
    for code in ("E", "W"):
        body = {"code": code, "name": {"E": "East", "W": "West"}[code], "alignment_id": alignment["id"]}
        regions[code] = p.ok(p.http.post("/geo/v1/territories", json=body), 201)["id"]
    for code, (region, _, _) in TERRITORIES.items():
        body = {"code": code, "name": code.title(), "alignment_id": alignment["id"], "parent_id": regions[region]}
        p.ok(p.http.post("/geo/v1/territories", json=body), 201)
    units = p.ok(p.http.get(f"/geo/v1/layers/{layer_id}/units?limit=1000"))["items"]
    for code, (_, west, east) in TERRITORIES.items():
        p.move(alignment["id"], [u["unit_id"] for u in units if west <= u["centroid"][0] < east], code)
    version = p.alignment(alignment["id"])["version"]
    p.ok(p.http.post(f"/geo/v1/alignments/{alignment['id']}/publish", headers={"If-Match": f'"{version}"'}))
    p.layer_id = layer_id  # type: ignore[attr-defined]
    p.centroids = {u["unit_id"]: tuple(u["centroid"]) for u in units}  # type: ignore[attr-defined]
    return p


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: run `bash scripts/infra/chromium-install.sh`"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


# The main map's tiles are fetched and drawn (none still loading).
TILES_DRAWN = "() => { const t = window.territoryMap.tiles(); return !!t && t.fetched > 0 && t.loading === 0; }"


class MapPage:
    """The web map open in a tab, with the few steps the tests repeat."""

    def __init__(self, page: Any, platform: Platform) -> None:
        self.page = page
        self.platform = platform
        self.errors: list[str] = []
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def open(self, alignment_id: str) -> MapPage:
        # As a user arrives from the link the embedded mode prints: the token in the fragment, never sent to the server.
        token = auth_headers(self.platform.tenant, "planner")["Authorization"].removeprefix("Bearer ")
        self.page.goto(f"{self.platform.url}/?alignment={alignment_id}#token={token}")
        self.wait_ready()
        return self

    def open_tiled(self, alignment_id: str) -> MapPage:
        """Open the alignment with its units drawn from vector tiles (whatever the layer's size), once they are."""
        token = auth_headers(self.platform.tenant, "planner")["Authorization"].removeprefix("Bearer ")
        self.page.goto(f"{self.platform.url}/?alignment={alignment_id}&tiles=on#token={token}")
        self.wait_ready()
        self.page.wait_for_function(TILES_DRAWN)
        return self

    def close_compare(self) -> None:
        """Close the side-by-side comparison; wait for the main map to take back the whole space."""
        self.page.get_by_label("Compare with").select_option(value="")
        self.page.wait_for_function("() => window.territoryMap.changedUnits().length === 0")
        self.wait_ready()
        # Leaflet measured its container again once the layout settled: the map is as wide as the space it has.
        self.page.wait_for_function(
            """() => {
                const w = document.querySelector('.maps').getBoundingClientRect().width;
                return Math.abs(window.territoryMap.map.getSize().x - w) <= 2
                    && Math.abs(document.querySelector('#map').getBoundingClientRect().width - w) <= 2;
            }"""
        )

    def wait_ready(self) -> None:
        self.page.wait_for_function("() => window.territoryMap && window.territoryMap.ready", timeout=30_000)

    def hook(self, expression: str, *args: Any) -> Any:
        return self.page.evaluate(f"(args) => window.territoryMap.{expression}", list(args))

    def territory_of(self, unit_id: str) -> str:
        return self.page.evaluate("(u) => window.territoryMap.territoryOf(u)", unit_id)

    def wait_territory(self, unit_id: str, code: str) -> None:
        self.page.wait_for_function(
            "([u, c]) => window.territoryMap.ready && window.territoryMap.territoryOf(u) === c",
            arg=[unit_id, code],
            timeout=15_000,
        )

    def unit_point(self, unit_id: str) -> dict[str, float]:
        """The unit's point on screen once the map has stopped moving (a zoom or pan may still be animating)."""
        deadline = time.monotonic() + 15
        previous, same = None, 0
        while True:
            point = self.page.evaluate("(u) => window.territoryMap.unitScreenPoint(u)", unit_id)
            assert point, f"unit {unit_id} is not on the map"
            # Three equal readings, not two: on a loaded machine a zoom can start after one quiet quarter second
            same = same + 1 if point == previous else 0
            if same >= 2 or time.monotonic() > deadline:
                return point
            previous = point
            self.page.wait_for_timeout(250)

    def drag_box(self, a: dict[str, float], b: dict[str, float]) -> None:
        mouse = self.page.mouse
        mouse.move(a["x"], a["y"])
        mouse.down()
        for i in range(1, 6):
            mouse.move(a["x"] + (b["x"] - a["x"]) * i / 5, a["y"] + (b["y"] - a["y"]) * i / 5)
        mouse.up()

    def panel_counts(self) -> dict[str, str]:
        return self.page.evaluate(
            "() => Object.fromEntries([...document.querySelectorAll('#territory-list li')]"
            ".map(li => [li.dataset.code, li.querySelector('.unit-count').textContent]))"
        )

    def balance_bars(self) -> dict[str, float]:
        return self.page.evaluate(
            "() => Object.fromEntries([...document.querySelectorAll('#territory-list li')]"
            ".filter(li => li.querySelector('.balance-bar[data-pct]'))"
            ".map(li => [li.dataset.code, Number(li.querySelector('.balance-bar').dataset.pct)]))"
        )

    def wait_balance_matches(self, platform: Platform, alignment_id: str, deadline_s: float = 20) -> dict[str, float]:
        """Wait until every leaf's bar shows 100 + the deviation metrics-service gives for the current version."""
        deadline = time.monotonic() + deadline_s
        while True:
            metric = self.page.locator("#balance-metric").input_value()
            expected = platform.balance(alignment_id, metric) if metric else {}
            shown = self.balance_bars()
            if (
                expected
                and shown.keys() == expected.keys()
                and all(abs(shown[k] - v) <= 0.11 for k, v in expected.items())
            ):
                return shown
            assert time.monotonic() < deadline, f"bars {shown} never matched metrics-service {expected}"
            time.sleep(0.2)

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def distinct_colours(self, png: Path) -> int:
        """Distinct colours in a screenshot, counted by the browser's own PNG decoder."""
        import base64

        data = base64.b64encode(png.read_bytes()).decode()
        return self.page.evaluate(
            """async (data) => {
                const img = new Image();
                img.src = 'data:image/png;base64,' + data;
                await img.decode();
                const c = document.createElement('canvas');
                c.width = img.width; c.height = img.height;
                const ctx = c.getContext('2d');
                ctx.drawImage(img, 0, 0);
                const px = ctx.getImageData(0, 0, c.width, c.height).data;
                const seen = new Set();
                for (let i = 0; i < px.length; i += 16) seen.add((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]);
                return seen.size;
            }""",
            data,
        )


@pytest.fixture
def map_page(browser: Any, platform: Platform) -> Iterator[MapPage]:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(20_000)
    mp = MapPage(page, platform)
    yield mp
    context.close()
    assert not mp.errors, f"the page raised: {mp.errors}"
