"""The web map at full scale: 3,142 US counties in 51 state territories under three regions stay usable."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from pathlib import Path

import pytest

from .conftest import REPO, MapPage, Platform

REGIONS = {"WEST": (-200, -105), "CENTRAL": (-105, -90), "EAST": (-90, 200)}


@pytest.fixture(scope="module")
def us(server: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Platform, str]:
    """US counties with population and potential; one territory per state, published for sales force `field`."""
    from territory_geodata.counties import load_us_counties
    from territory_geodata.files import write_geojson

    p = Platform(server, f"us-{uuid.uuid4().hex[:8]}")
    counties = load_us_counties()
    path = tmp_path_factory.mktemp("us") / "us-counties.geojson"
    write_geojson(path, counties.ids, {"population": counties.population, "potential": counties.potential},
                  counties.geometries)  # fmt: skip
    job = p.ok(
        p.http.post(
            "/geo/v1/layers",
            files={"file": (path.name, path.read_bytes())},
            data={"name": "US counties", "id_column": "id", "attributes": "population,potential"},
        ),
        202,
    )
    deadline = time.monotonic() + 300
    while (status := p.ok(p.http.get(f"/geo/v1/jobs/{job['job_id']}")))["status"] not in ("succeeded", "failed"):
        assert time.monotonic() < deadline, status
        time.sleep(0.2)
    assert status["status"] == "succeeded", status
    layer_id = status["result"]["layer_id"]
    a = p.ok(
        p.http.post("/geo/v1/alignments", json={"name": "Starting", "sales_force": "field", "layer_id": layer_id}), 201
    )
    units = []
    url: str | None = f"/geo/v1/layers/{layer_id}/units?limit=10000"
    while url:
        page = p.ok(p.http.get(url))
        units += page["items"]
        url = page["next"]
    by_state: dict[str, list[float]] = {}
    for u in units:
        by_state.setdefault(u["unit_id"][:2], []).append(u["centroid"][0])
    region_ids = {}
    for code in REGIONS:
        body = {"code": code, "name": code.title(), "alignment_id": a["id"]}
        region_ids[code] = p.ok(p.http.post("/geo/v1/territories", json=body), 201)["id"]
    for state, lons in by_state.items():
        lon = sorted(lons)[len(lons) // 2]
        region = next(c for c, (w, e) in REGIONS.items() if w <= lon < e)
        body = {"code": f"S{state}", "name": f"State {state}", "alignment_id": a["id"], "parent_id": region_ids[region]}
        p.ok(p.http.post("/geo/v1/territories", json=body), 201)
    csv = "unit_id,territory_code\n" + "".join(f"{u['unit_id']},S{u['unit_id'][:2]}\n" for u in units)
    r = p.http.put(f"/geo/v1/alignments/{a['id']}/assignments.csv", content=csv, headers={"If-Match": '"1"'})
    version = int(r.headers["etag"].strip('"')) if r.status_code == 200 else pytest.fail(r.text)
    p.ok(p.http.post(f"/geo/v1/alignments/{a['id']}/publish", headers={"If-Match": f'"{version}"'}))
    return p, a["id"]


def test_three_thousand_counties_load_render_and_take_a_box_move_without_freezing(browser, us):
    platform, active = us
    draft = platform.draft("national what-if")
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    map_page = MapPage(page, platform)
    try:
        started = time.monotonic()
        map_page.open(draft["id"])
        load_s = time.monotonic() - started
        assert load_s < 60, f"the map took {load_s:.1f}s to load"
        assert len(map_page.hook("queryRenderedFeatures(...args)", "units")) > 3000
        outlines = map_page.hook("queryRenderedFeatures(...args)", "territories")
        # The map frames the contiguous states; Alaska and Hawaii are a pan away.
        assert len([o for o in outlines if o["level"] == 1]) >= 49
        assert len([o for o in outlines if o["level"] == 0]) == 3
        map_page.wait_balance_matches(platform, draft["id"], deadline_s=60)
        shot = map_page.screenshot("us-counties")
        assert map_page.distinct_colours(shot) > 100
        if os.environ.get("UPDATE_README_SCREENSHOT"):
            shutil.copy(shot, REPO / "docs" / "img" / "web-map.png")

        # The page answers while idle: no long task holds the main thread.
        t = time.monotonic()
        page.evaluate("() => 1")
        assert time.monotonic() - t < 1

        page.get_by_role("button", name="Box").click()
        a, b = map_page.unit_point("37183"), map_page.unit_point("37063")  # Wake and Durham, NC
        pad = 6
        before = platform.units(draft["id"])
        started = time.monotonic()
        map_page.drag_box({"x": min(a["x"], b["x"]) - pad, "y": min(a["y"], b["y"]) - pad},
                          {"x": max(a["x"], b["x"]) + pad, "y": max(a["y"], b["y"]) + pad})  # fmt: skip
        selected = map_page.hook("selection()")
        assert {"37183", "37063"} <= set(selected)
        page.get_by_label("Move to").select_option(label="S51 · State 51")
        page.get_by_role("button", name="Move selected").click()
        map_page.wait_territory("37183", "S51")
        move_s = time.monotonic() - started
        assert move_s < 15, f"a move took {move_s:.1f}s"
        after = platform.units(draft["id"])
        assert {u for u in after if after[u] != before[u]} == {u for u in selected if before[u] != "S51"}
        map_page.wait_balance_matches(platform, draft["id"], deadline_s=60)
        map_page.screenshot("us-counties-after-move")
        print(f"US counties: loaded in {load_s:.1f}s, box move of {len(selected)} units in {move_s:.1f}s")
    finally:
        context.close()
    assert not map_page.errors, map_page.errors


def test_readme_screenshot_exists():
    assert (Path(REPO) / "docs" / "img" / "web-map.png").is_file(), "UPDATE_README_SCREENSHOT=1 pytest tests/browser"
