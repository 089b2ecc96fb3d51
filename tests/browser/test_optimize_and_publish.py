"""The Optimize panel and the publish summary in Chromium, against the embedded platform: North Carolina's counties
in four territories, accounts placed by births and a rep per territory, all loaded through the public APIs.

An optimization shows its progress and opens the draft it wrote; publishing a draft shows the realignment summary
per rep once assignment-service has applied it, with the figures its API reports.
"""

from __future__ import annotations

import random
import time
import uuid
from typing import Any

import pytest

from .conftest import MapPage, Platform, _by_longitude

REPS = {"WEST": "wes", "PIEDMONT": "pia", "TRIANGLE": "tri", "COAST": "cora"}


@pytest.fixture(scope="module")
def platform(server: str, tmp_path_factory: pytest.TempPathFactory) -> Platform:
    """A tenant of its own: NC counties, a published four-territory alignment, 400 accounts, a rep per territory."""
    p = Platform(server, f"opt-{uuid.uuid4().hex[:8]}")
    units = p.publish_by_longitude(p.import_nc(tmp_path_factory.mktemp("nc-opt"), "BIR74"))
    for code, ext in REPS.items():
        home = next(u["centroid"] for u in units if _by_longitude(u["centroid"][0]) == code)
        rep = {"name": ext.title(), "capacity_hours": 1600, "home_lon": home[0], "home_lat": home[1]}
        p.ok(p.http.put(f"/assignment/v1/reps/{ext}", json=rep), 201)
        body = {"sales_force": "field", "territory_code": code, "rep_external_id": ext}
        p.ok(p.http.post("/assignment/v1/roster-entries", json=body), 201)
    rng = random.Random(5)
    weights = [max(1.0, float(u["attributes"].get("BIR74") or 0)) for u in units]
    accounts = [
        {"external_id": f"acct-{i}", "lon": u["centroid"][0], "lat": u["centroid"][1], "potential": rng.randint(1, 500)}
        for i, u in enumerate(rng.choices(units, weights=weights, k=400))
    ]
    p.ok(p.http.post("/assignment/v1/accounts/bulk", json=accounts))
    return p


def _wait(p: Platform, path: str, deadline_s: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + deadline_s
    while (job := p.ok(p.http.get(path)))["status"] not in ("succeeded", "failed", "cancelled", "interrupted"):
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    return job


def test_accounts_are_drawn_in_clusters_and_rep_homes_as_points(map_page: MapPage, platform: Platform):
    map_page.open(platform.active_id)
    page = map_page.page
    page.wait_for_function("() => window.territoryMap.renderedPoints().reps > 0", timeout=60_000)  # after accounts
    assert map_page.hook("renderedPoints()") == {"accounts": 400, "reps": len(REPS)}
    page.wait_for_selector(".account-cluster", timeout=30_000)  # 400 points at state zoom: in bubbles, not 400 markers
    assert "could not be loaded" not in (page.locator("#messages").text_content() or "")


def test_an_optimization_shows_progress_and_opens_the_draft_it_wrote(map_page: MapPage, platform: Platform):
    active = platform.active_id
    map_page.open(active)
    page = map_page.page
    assert page.locator("#optimize-section").is_visible()
    page.locator("#opt-k").fill("3")
    page.get_by_label("Time limit, s").fill("20")
    page.get_by_label("Account count", exact=True).check()
    page.get_by_label("Tolerance of Account count, %").fill("15")
    page.get_by_role("button", name="Optimize", exact=True).click()
    page.wait_for_function("() => window.territoryMap.optimizeResult() !== null", timeout=120_000)
    map_page.wait_ready()
    result = map_page.hook("optimizeResult()")
    draft_id = result["draft_alignment_id"]
    page.wait_for_function("(id) => window.territoryMap.alignmentId === id", arg=draft_id)
    map_page.wait_ready()

    seen = map_page.hook("optimizeProgress()")
    assert any(0 < p < 100 for p in seen), f"no intermediate progress shown: {seen}"
    assert seen[-1] == 100
    # The draft it opened is the one the job wrote, and the map draws it: three territories over every county.
    jobs_result = result  # the page read it from GET /assignment/v1/jobs/{id}
    draft = platform.alignment(draft_id)
    assert draft["state"] == "draft" and page.locator("#alignment-state").text_content().startswith("draft")
    assert page.locator("#alignment").input_value() == draft_id
    units = platform.units(draft_id)
    assert sorted(set(units.values())) == ["T01", "T02", "T03"]
    assert len(map_page.hook("queryRenderedFeatures(...args)", "units")) == 100
    outlines = map_page.hook("queryRenderedFeatures(...args)", "territories")
    assert len(outlines) == 3
    for code in ("T01", "T02", "T03"):
        assert map_page.panel_counts()[code] == f"{list(units.values()).count(code)} units"
    # The figures shown are the job's, and say honestly whether each target was met.
    figures = page.locator("#optimize-result li").all_text_contents()
    for m in jobs_result["metrics"]:
        line = next(f for f in figures if f.startswith(m["metric"].replace("_", " ")))
        assert f"max deviation {m['max_deviation_pct']:.2f}%" in line
    status = page.locator("#optimize-status").text_content()
    assert ("balanced territories" in status) == (jobs_result["balanced"] and jobs_result["feasible"])
    page.locator("#optimize-result").scroll_into_view_if_needed()
    map_page.screenshot("optimize-result")


def test_publishing_shows_the_realignment_summary_per_rep(map_page: MapPage, platform: Platform):
    body = {"alignment_id": platform.active_id, "time_limit_s": 10, "seed": 2, "name": "rebalanced"}
    job_id = platform.ok(platform.http.post("/assignment/v1/design-jobs", json=body), 202)["job_id"]
    job = _wait(platform, f"/assignment/v1/jobs/{job_id}")
    assert job["status"] == "succeeded", job
    draft_id = job["result"]["draft_alignment_id"]
    map_page.open(draft_id)
    page = map_page.page
    page.get_by_role("button", name="Preview changes").click()
    page.wait_for_function("() => document.querySelector('#publish-preview').textContent.includes('change owner')")
    preview = platform.ok(platform.http.post(f"/assignment/v1/realignments/preview?alignment_id={draft_id}"))
    assert f"{preview['accounts_moved']} account" in page.locator("#publish-preview").text_content()
    page.get_by_role("button", name="Publish this draft").click()
    page.locator("#publish-dialog").get_by_role("button", name="Publish", exact=True).click()
    page.wait_for_selector("#publish-summary table", timeout=60_000)
    run = next(
        r
        for r in platform.ok(platform.http.get("/assignment/v1/realignments?sales_force=field"))
        if r["alignment_id"] == draft_id and r["status"] == "completed"
    )
    heading = page.locator("#publish-summary .run-heading").text_content()
    assert f"{run['accounts_moved']} account" in heading
    shown = page.evaluate(
        "() => [...document.querySelectorAll('#publish-summary tbody tr')]"
        ".map(tr => [tr.dataset.rep, ...[...tr.cells].map(c => c.textContent)])"
    )
    # each row names its rep (the id stays in the row's data)
    expected = [
        [
            r["rep_external_id"] or "",
            r["rep_external_id"].title() if r["rep_external_id"] else "(no rep)",
            f"+{r['accounts_gained']}",
            f"−{r['accounts_lost']}",
        ]
        for r in run["summary"]["reps"]
    ]
    assert [row[:4] for row in shown] == expected
    assert run["summary"]["reps"] == preview["reps"]
    assert run["accounts_moved"] == preview["accounts_moved"] > 0
    page.locator("#publish-summary").scroll_into_view_if_needed()
    map_page.screenshot("publish-summary")


def test_a_refused_optimization_shows_the_field_and_the_reason(map_page: MapPage, platform: Platform):
    map_page.open(platform.active_id)
    page = map_page.page
    page.locator("#opt-k").fill("1000")
    page.get_by_role("button", name="Optimize", exact=True).click()
    page.wait_for_function("() => document.querySelector('#optimize-status').textContent.includes('Not started')")
    status = page.locator("#optimize-status")
    assert "k: 1000 territories for 100 units" in status.text_content()
    assert "error-text" in (status.get_attribute("class") or "")
    assert page.locator("#optimize-progress").is_hidden()
