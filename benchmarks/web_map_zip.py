"""The web map in Chromium on the approximate ZIP areas of the contiguous US (31,729 units, drawn from vector tiles)
and on the US counties (3,142, drawn as GeoJSON): first paint, a pan, a box selection of about 500 units and its
move, a recolour.

    uv run --frozen python benchmarks/web_map_zip.py            # starts territory-embedded itself

It imports both layers through the API (the ZIP areas take a few minutes), publishes one territory per state and
opens a draft of each in Chromium with the flags the browser tests use.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, VIEWPORT  # noqa: E402
from tests.browser.zip_areas import import_zip_layer, publish_alignment, unit_centres  # noqa: E402
from tests.support.auth import TEST_SECRET, auth_headers  # noqa: E402
from tests.support.processes import ServiceProcess, free_port, wait_ready  # noqa: E402

DRAWN = """() => { const m = window.territoryMap; if (!m || !m.ready) return false;
                   const t = m.tiles(); return !t || (t.fetched > 0 && t.loading === 0); }"""


def import_counties(http: httpx.Client, folder: Path) -> tuple[str, dict[str, str]]:
    from territory_geodata.counties import load_us_counties
    from territory_geodata.files import write_geojson

    counties = load_us_counties()
    path = folder / "us-counties.geojson"
    write_geojson(path, counties.ids, {"pop": counties.population}, counties.geometries)
    r = http.post("/geo/v1/layers", files={"file": (path.name, path.read_bytes())},
                  data={"name": "US counties", "id_column": "id", "attributes": "pop"})  # fmt: skip
    job_url = f"/geo/v1/jobs/{r.json()['job_id']}"
    while (job := http.get(job_url).json())["status"] not in ("succeeded", "failed"):
        time.sleep(0.3)
    layer_id = job["result"]["layer_id"]
    return layer_id, {str(u): f"S{str(u)[:2]}" for u in counties.ids}


def print_timeline(what: str, start: float, timeline: list[tuple[float, str, float]]) -> None:
    """The requests that finished since ``start``: when (s after it), how long each took (ms), tiles summed up."""
    print(f"-- {what}")
    tiles = [(at, took) for at, path, took in timeline if at >= start and "/tiles/" in path]
    for at, path, took in timeline:
        if at >= start and "/tiles/" not in path:
            print(f"{at - start:7.2f} s {took:7.0f} ms  {path[:100]}")
    if tiles:
        print(f"{len(tiles)} tiles, the last at {max(a for a, _ in tiles) - start:.2f} s, slowest "
              f"{max(t for _, t in tiles):.0f} ms")  # fmt: skip
    timeline.clear()


def measure(browser: Any, url: str, tenant: str, alignment_id: str, centres: dict[str, tuple[float, float]],
            around: tuple[float, float], trace: bool = False) -> dict[str, float]:  # fmt: skip
    page = browser.new_context(viewport=VIEWPORT).new_page()
    page.set_default_timeout(120_000)
    page.add_init_script("""window.__long = []; new PerformanceObserver((l) => {
        for (const e of l.getEntries()) window.__long.push(e.duration); }).observe({entryTypes: ['longtask']});""")
    token = auth_headers(tenant, "planner")["Authorization"].removeprefix("Bearer ")
    out: dict[str, float] = {}
    timeline: list[tuple[float, str, float]] = []
    if trace:
        page.on("requestfinished", lambda r: timeline.append(
            (time.monotonic(), r.url.removeprefix(url), r.timing["responseEnd"])))  # fmt: skip
    t = time.monotonic()
    page.goto(f"{url}/?alignment={alignment_id}#token={token}")
    page.wait_for_function(DRAWN, polling=50)
    out["first paint s"] = time.monotonic() - t
    if trace:
        print_timeline("first paint", t, timeline)

    page.evaluate("() => { window.__long = []; }")
    t = time.monotonic()
    page.evaluate("() => { window.territoryMap.map.panBy([500, 250], {animate: false}); }")
    page.wait_for_timeout(50)
    page.wait_for_function(DRAWN, polling=20)
    out["pan s"] = time.monotonic() - t
    if trace:
        print_timeline("pan", t, timeline)
    out["pan longest task ms"] = max(page.evaluate("() => window.__long"), default=0.0)

    t = time.monotonic()
    page.evaluate("() => { window.territoryMap.map.zoomIn(1, {animate: false}); }")
    page.wait_for_timeout(50)
    page.wait_for_function(DRAWN, polling=20)
    out["zoom in s"] = time.monotonic() - t
    if trace:
        print_timeline("zoom in", t, timeline)
    page.evaluate("() => { window.territoryMap.map.zoomOut(1, {animate: false}); }")
    page.wait_for_function(DRAWN, polling=20)

    # A box around the 500 units nearest `around`, framed on screen.
    ids = list(centres)
    xy = np.array([centres[u] for u in ids])
    nearest = np.argsort(np.hypot(xy[:, 0] - around[0], (xy[:, 1] - around[1]) * 1.3))[:500]
    (w, s), (e, n) = xy[nearest].min(axis=0), xy[nearest].max(axis=0)
    page.evaluate("(b) => { window.territoryMap.map.fitBounds(b, {animate: false, padding: [40, 40]}); }",
                  [[s, w], [n, e]])  # fmt: skip
    page.wait_for_timeout(50)
    page.wait_for_function(DRAWN, polling=20)
    a, b = page.evaluate(
        """(box) => { const m = window.territoryMap.map; const r = m.getContainer().getBoundingClientRect();
                      return box.map((c) => { const p = m.latLngToContainerPoint(c);
                                              return {x: r.left + p.x, y: r.top + p.y}; }); }""",
        [[n + 1e-4, w - 1e-4], [s - 1e-4, e + 1e-4]],
    )
    page.get_by_role("button", name="Box").click()
    t = time.monotonic()
    page.mouse.move(a["x"], a["y"])
    page.mouse.down()
    for i in range(1, 6):
        page.mouse.move(a["x"] + (b["x"] - a["x"]) * i / 5, a["y"] + (b["y"] - a["y"]) * i / 5)
    page.mouse.up()
    selected = page.evaluate("() => window.territoryMap.selection()")
    out["box select s"] = time.monotonic() - t
    out["units selected"] = len(selected)
    probe = selected[0]
    options = page.locator("#target-territory option").all_inner_texts()
    now = page.evaluate("(u) => window.territoryMap.territoryOf(u)", probe)
    target = next(o for o in options if o.startswith("S") and o.split(" · ")[0] != now)
    page.get_by_label("Move to").select_option(label=target)
    page.evaluate("() => { window.__long = []; }")
    t = time.monotonic()
    page.get_by_role("button", name="Move selected").click()
    page.wait_for_function("([u, c]) => window.territoryMap.territoryOf(u) === c",
                           arg=[probe, target.split(" · ")[0]], polling=10)  # fmt: skip
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
    out["move recoloured s"] = time.monotonic() - t
    out["box select and move s"] = out["box select s"] + out["move recoloured s"]

    page.get_by_role("button", name="Pan").click()
    page.wait_for_function(DRAWN, polling=20)
    for label, value in (("recolour by attribute ms", "attr:pop"), ("recolour by territory ms", "territory")):
        out[label] = page.evaluate(
            """async (v) => { const s = document.getElementById('choropleth'); const t = performance.now();
                              s.value = v; s.dispatchEvent(new Event('change'));
                              await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
                              return performance.now() - t; }""",
            value,
        )
    page.context.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-counties", action="store_true")
    parser.add_argument("--trace", action="store_true", help="print the requests of the first paint and the pan")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="web-map-zip-"))
    port = free_port()
    cli = ["-m", "territory_embedded.cli", "--port", str(port), "--data-dir", str(work / "data"), "--no-demo"]
    # Its own secret for this run's tokens, as the browser tests sign them.
    env = {"LOG_LEVEL": "WARNING", "AUTH_JWT_SECRET": TEST_SECRET}
    process = ServiceProcess("territory-embedded", cli, env, work).start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{url}/healthz", process, deadline_s=120)
        results: dict[str, dict[str, float]] = {}
        cases = [("ZIP areas", (-87.9, 41.9))] + ([] if args.skip_counties else [("counties", (-84.5, 39.0))])
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            for name, around in cases:
                tenant = f"bench-{uuid.uuid4().hex[:6]}"
                http = httpx.Client(base_url=url, headers=auth_headers(tenant), timeout=600)
                t = time.monotonic()
                if name == "ZIP areas":
                    layer_id, states = import_zip_layer(http, work)
                    territory_of = {u: f"S{s}" for u, s in states.items()}
                else:
                    layer_id, territory_of = import_counties(http, work)
                active = publish_alignment(http, layer_id, territory_of)
                print(f"{name}: {len(territory_of):,} units imported and published in {time.monotonic() - t:.0f} s")
                body = {"name": "what-if", "sales_force": "field", "copy_from": active}
                draft = http.post("/geo/v1/alignments", json=body).json()["id"]
                centres = unit_centres(http, layer_id)
                results[name] = measure(browser, url, tenant, draft, centres, around, args.trace)
            browser.close()
        keys = list(next(iter(results.values())))
        print(f"{'':28}" + "".join(f"{n:>14}" for n in results))
        for k in keys:
            print(f"{k:28}" + "".join(f"{r[k]:>14.2f}" for r in results.values()))
    finally:
        process.stop()


if __name__ == "__main__":
    main()
