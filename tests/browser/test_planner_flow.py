"""A planner's flow through the web map, in Chromium against the embedded platform: publishing asks first and says
what it will change per rep, compare opens and closes cleanly, a double-click moves once, editing needs a signed-in
planner, the address bar keeps the view, and the Optimize panel shows a live, honest run.

A tenant of its own: North Carolina's counties in four published territories of sales force `field` (a rep per
territory, accounts placed by births, one account in a coastal county heavier than a territory may hold), and a
second sales force whose name sorts first.
"""

from __future__ import annotations

import random
import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.auth import token

from .conftest import VIEWPORT, MapPage, Platform, _by_longitude

WAKE = "37183"  # Raleigh: TRIANGLE in the starting alignment
DURHAM = "37063"
NEW_HANOVER = "37129"  # Wilmington, on the coast
REPS = {"WEST": ("wes", "Wes Mountain"), "PIEDMONT": ("pia", "Pia Foothill"),
        "TRIANGLE": ("tri", "Tri Research"), "COAST": ("cora", "Cora Shore")}  # fmt: skip
FIRST_FORCE = "aaa-inside"  # sorts before `field`: where a page that forgets its sales force lands


@pytest.fixture(scope="module")
def platform(server: str, tmp_path_factory: pytest.TempPathFactory) -> Platform:
    p = Platform(server, f"flow-{uuid.uuid4().hex[:8]}")
    layer_id = p.import_nc(tmp_path_factory.mktemp("nc-flow"), "BIR74")
    units = p.publish_by_longitude(layer_id)
    for code, (ext, name) in REPS.items():
        home = next(u["centroid"] for u in units if _by_longitude(u["centroid"][0]) == code)
        rep = {"name": name, "capacity_hours": 1600, "home_lon": home[0], "home_lat": home[1]}
        p.ok(p.http.put(f"/assignment/v1/reps/{ext}", json=rep), 201)
        body = {"sales_force": "field", "territory_code": code, "rep_external_id": ext}
        p.ok(p.http.post("/assignment/v1/roster-entries", json=body), 201)
    rng = random.Random(11)
    weights = [max(1.0, float(u["attributes"].get("BIR74") or 0)) for u in units]
    accounts = [
        {"external_id": f"acct-{i}", "lon": u["centroid"][0], "lat": u["centroid"][1], "potential": rng.randint(1, 500)}
        for i, u in enumerate(rng.choices(units, weights=weights, k=400))
    ]
    centre = {u["unit_id"]: u["centroid"] for u in units}
    # Accounts in Wake and Durham for sure (a move of either changes owners), and one whale on the coast: its
    # county alone holds more than a quarter of all potential, so the optimizer must set its territory aside.
    for i, unit in enumerate([WAKE, WAKE, WAKE, DURHAM, DURHAM]):
        lon, lat = centre[unit]
        accounts.append({"external_id": f"near-{i}", "lon": lon, "lat": lat, "potential": 300})
    lon, lat = centre[NEW_HANOVER]
    accounts.append({"external_id": "whale", "lon": lon, "lat": lat, "potential": 150_000})
    p.ok(p.http.post("/assignment/v1/accounts/bulk", json=accounts))
    p.layer_id = layer_id  # type: ignore[attr-defined]
    return p


@pytest.fixture(scope="module")
def first_force(platform: Platform) -> str:
    """A second sales force on the same layer, published, whose name sorts before `field`."""
    body = {"name": "Inside", "sales_force": FIRST_FORCE, "layer_id": platform.layer_id}  # type: ignore[attr-defined]
    other = platform.ok(platform.http.post("/geo/v1/alignments", json=body), 201)
    territory = {"code": "ALL", "name": "All", "alignment_id": other["id"]}
    platform.ok(platform.http.post("/geo/v1/territories", json=territory), 201)
    headers = {"If-Match": f'"{other["version"]}"'}
    platform.ok(platform.http.post(f"/geo/v1/alignments/{other['id']}/publish", headers=headers))
    return FIRST_FORCE


@pytest.fixture
def open_as(browser: Any, platform: Platform) -> Iterator[Callable[..., MapPage]]:
    """Open the map in a tab of its own: `query` after `/?`, signed in as `role` (None: no token at all)."""
    contexts: list[Any] = []
    pages: list[MapPage] = []

    def open_(query: str, role: str | None = "planner", raw_token: str | None = None, ready: bool = True) -> MapPage:
        context = browser.new_context(viewport=VIEWPORT)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        mp = MapPage(page, platform)
        pages.append(mp)
        given = raw_token if raw_token is not None else (token(platform.tenant, role) if role else None)
        page.goto(f"{platform.url}/?{query}" + (f"#token={given}" if given else ""))
        if ready:
            mp.wait_ready()
        return mp

    yield open_
    for c in contexts:
        c.close()
    errors = [e for mp in pages for e in mp.errors]
    assert not errors, f"the page raised: {errors}"


def territory_now(p: Platform, alignment_id: str, unit: str) -> str:
    return str(p.units(alignment_id)[unit])


def another_leaf(code: str) -> str:
    return next(c for c in ("WEST", "PIEDMONT", "TRIANGLE", "COAST") if c != code)


def select_unit(mp: MapPage, unit: str) -> None:
    point = mp.unit_point(unit)
    mp.page.mouse.click(point["x"], point["y"])
    mp.page.wait_for_function("(u) => window.territoryMap.selection().includes(u)", arg=unit)


def rep_names(p: Platform) -> dict[str, str]:
    return {r["external_id"]: r["name"] for r in p.ok(p.http.get("/assignment/v1/reps?limit=1000"))}


def wait_text(mp: MapPage, selector: str, text: str, timeout: float = 30_000) -> None:
    mp.page.wait_for_function(
        "([s, t]) => (document.querySelector(s)?.textContent ?? '').includes(t)", arg=[selector, text], timeout=timeout
    )


def _changes(values: list[float]) -> list[float]:
    """The values with repeats in a row dropped: what a reader sees change."""
    return [v for i, v in enumerate(values) if i == 0 or v != values[i - 1]]


def rows_of(mp: MapPage, selector: str) -> list[list[str]]:
    return mp.page.evaluate(
        "(s) => [...document.querySelectorAll(s + ' tbody tr')].map(tr => [...tr.cells].map(c => c.textContent))",
        selector,
    )


# ---- publishing asks first -----------------------------------------------------------------------------------------


def test_publish_asks_first_with_the_preview_per_rep_then_shows_the_result_with_names(
    open_as: Callable[..., MapPage], platform: Platform
):
    draft = platform.draft("publish with care")
    other = platform.draft("another what-if")
    wake_was = territory_now(platform, draft["id"], WAKE)
    platform.move(draft["id"], [WAKE, DURHAM], another_leaf(wake_was))
    active = platform.alignment(platform.active_id)
    names = rep_names(platform)
    mp = open_as(f"alignment={draft['id']}")
    page = mp.page

    # The preview panel belongs to the draft on screen: switching drafts clears it.
    page.get_by_role("button", name="Preview changes").click()
    wait_text(mp, "#publish-preview", "change owner")
    assert active["name"] in page.locator("#publish-preview").text_content()
    page.locator("#alignment").select_option(value=other["id"])
    page.wait_for_function("(id) => window.territoryMap.alignmentId === id", arg=other["id"])
    mp.wait_ready()
    assert "change owner" not in page.locator("#publish-preview").text_content()
    page.locator("#alignment").select_option(value=draft["id"])
    page.wait_for_function("(id) => window.territoryMap.alignmentId === id", arg=draft["id"])
    mp.wait_ready()

    # Publish asks first, in the page, saying what will change: accounts, reps, and per rep by name.
    preview = platform.ok(platform.http.post(f"/assignment/v1/realignments/preview?alignment_id={draft['id']}"))
    assert preview["accounts_moved"] > 0
    page.get_by_role("button", name="Publish this draft").click()
    page.get_by_role("dialog", name=f"Publish “{draft['name']}”?").wait_for()
    dialog = page.locator("#publish-dialog")
    wait_text(mp, "#publish-dialog", "change owner")
    changed_reps = [r for r in preview["reps"] if r["accounts_gained"] or r["accounts_lost"]]
    text = dialog.text_content()
    assert f"{preview['accounts_moved']} account" in text
    assert f"{len([r for r in changed_reps if r['rep_external_id']])} rep" in text
    assert draft["name"] in text and active["name"] in text
    expected = [
        [names.get(r["rep_external_id"] or "", "(no rep)"), f"+{r['accounts_gained']}", f"−{r['accounts_lost']}"]
        for r in changed_reps
    ]
    assert [row[:3] for row in rows_of(mp, "#publish-dialog .confirm-reps")] == expected
    mp.screenshot("publish-confirm")
    assert platform.alignment(draft["id"])["state"] == "draft", "nothing is published before the planner confirms"

    # Cancel leaves everything as it was.
    dialog.get_by_role("button", name="Cancel").click()
    dialog.wait_for(state="hidden")
    assert platform.alignment(draft["id"])["state"] == "draft"

    page.get_by_role("button", name="Publish this draft").click()
    dialog.wait_for()
    wait_text(mp, "#publish-dialog", "change owner")
    dialog.get_by_role("button", name="Publish", exact=True).click()
    page.wait_for_selector("#publish-dialog .run-reps tbody tr", timeout=60_000)
    assert platform.active_id == draft["id"]
    run = next(
        r
        for r in platform.ok(platform.http.get("/assignment/v1/realignments?sales_force=field"))
        if r["alignment_id"] == draft["id"] and r["status"] == "completed"
    )
    after = [
        [names.get(r["rep_external_id"] or "", "(no rep)"), f"+{r['accounts_gained']}", f"−{r['accounts_lost']}"]
        for r in run["summary"]["reps"]
    ]
    assert [row[:3] for row in rows_of(mp, "#publish-dialog .run-reps")] == after
    assert [row[:3] for row in rows_of(mp, "#publish-summary .run-reps")] == after
    assert f"{run['accounts_moved']} account" in page.locator("#publish-dialog .run-heading").text_content()
    mp.screenshot("publish-done")
    dialog.get_by_role("button", name="Close").click()
    dialog.wait_for(state="hidden")
    # The alignment the preview compared against is archived now: the panel no longer speaks of it.
    assert platform.alignment(active["id"])["state"] == "archived"
    page.wait_for_function("() => document.querySelector('#alignment-state').textContent.startsWith('active')")
    assert active["name"] not in page.locator("#publish-preview").text_content()


# ---- compare ---------------------------------------------------------------------------------------------------------


def test_closing_compare_restores_the_full_width_map_without_errors(
    open_as: Callable[..., MapPage], platform: Platform
):
    draft = platform.draft("compare and close")
    platform.move(draft["id"], [WAKE], another_leaf(territory_now(platform, draft["id"], WAKE)))
    mp = open_as(f"alignment={draft['id']}")
    page = mp.page
    full = page.evaluate("() => document.querySelector('.maps').getBoundingClientRect().width")
    page.get_by_label("Compare with").select_option(value=platform.active_id)
    page.wait_for_function("() => window.territoryMap.changedUnits().length > 0")
    mp.wait_ready()
    half = page.evaluate("() => document.querySelector('#map').getBoundingClientRect().width")
    assert half < full * 0.6
    assert "Comparing with" in page.locator("#messages").text_content()

    mp.close_compare()
    assert page.locator("#compare-pane").is_hidden()
    assert "Comparing with" not in page.locator("#messages").text_content()
    # Panning afterwards touches only the map that is left.
    page.evaluate("() => { window.territoryMap.map.panBy([120, 40], { animate: false }); }")
    page.evaluate("() => { const m = window.territoryMap.map; m.setZoom(m.getZoom() + 1, { animate: false }); }")
    page.wait_for_timeout(300)
    assert mp.errors == []
    mp.screenshot("compare-closed")


# ---- moves -----------------------------------------------------------------------------------------------------------


def test_a_double_click_on_move_moves_once_and_keeps_the_undo_history(
    open_as: Callable[..., MapPage], platform: Platform
):
    draft = platform.draft("double click")
    was = territory_now(platform, draft["id"], DURHAM)
    target = another_leaf(was)
    mp = open_as(f"alignment={draft['id']}")
    page = mp.page
    select_unit(mp, DURHAM)
    page.get_by_label("Move to").select_option(label=target)
    version = platform.alignment(draft["id"])["version"]
    page.get_by_role("button", name="Move selected").dblclick()
    mp.wait_territory(DURHAM, target)
    mp.wait_ready()
    page.wait_for_timeout(500)  # a second move, had it been sent, has had time to come back
    assert page.locator("#conflict").is_hidden(), page.locator("#conflict").text_content()
    assert platform.alignment(draft["id"])["version"] == version + 1, "one move, one new version"
    assert platform.units(draft["id"])[DURHAM] == target
    undo = page.get_by_role("button", name="Undo")
    assert undo.is_enabled()
    undo.click()
    mp.wait_territory(DURHAM, was)
    assert platform.units(draft["id"])[DURHAM] == was


# ---- who may edit ----------------------------------------------------------------------------------------------------

# Move selected, Lock, Unlock, Undo, Redo, Publish this draft, Schedule publish (hidden until its panel loads).
EDITING = ["move", "lock", "unlock", "undo", "redo", "publish", "schedule-publish"]


def editing_disabled(mp: MapPage) -> dict[str, bool]:
    return {name: mp.page.locator(f"#{name}").is_disabled() for name in EDITING}


def test_signed_out_the_editing_controls_are_disabled(open_as: Callable[..., MapPage], platform: Platform):
    draft = platform.draft("signed out")
    mp = open_as(f"alignment={draft['id']}", role=None)
    assert mp.page.get_by_role("form", name="Sign in").is_visible()
    assert all(editing_disabled(mp).values()), editing_disabled(mp)
    assert mp.page.get_by_role("button", name="Create from active").is_disabled()


def test_a_garbage_token_is_called_not_valid_in_plain_words(open_as: Callable[..., MapPage], platform: Platform):
    draft = platform.draft("garbage token")
    for raw in ("garbage", "aaaa.bbbb.cccc", token(platform.tenant, "planner", secret="another-secret-" * 4)):
        mp = open_as(f"alignment={draft['id']}", raw_token=raw)
        page = mp.page
        assert page.get_by_role("form", name="Sign in").is_visible()
        reason = page.locator("#signin-reason").text_content()
        assert "This token is not valid" in reason, reason
        shown = reason + page.locator("#messages").text_content()
        for developer in ("segments", "JWT", "Signature", "verification", "(401)"):
            assert developer not in shown, shown
        assert all(editing_disabled(mp).values()), editing_disabled(mp)


def test_a_role_that_cannot_edit_sees_the_editing_controls_disabled(
    open_as: Callable[..., MapPage], platform: Platform
):
    draft = platform.draft("for a manager")
    manager = open_as(f"alignment={draft['id']}", role="manager")
    assert manager.page.locator("#alignment-state").text_content().startswith("draft")
    assert all(editing_disabled(manager).values()), editing_disabled(manager)
    assert manager.page.get_by_role("button", name="Optimize", exact=True).is_disabled()
    assert manager.page.get_by_role("button", name="Create from active").is_disabled()
    assert manager.page.get_by_role("button", name="Preview changes").is_enabled()  # a manager may preview
    assert "planner" in manager.page.locator("#edit-hint").text_content()
    planner = open_as(f"alignment={draft['id']}")
    select_unit(planner, WAKE)
    assert planner.page.get_by_role("button", name="Move selected").is_enabled()
    assert planner.page.get_by_role("button", name="Publish this draft").is_enabled()


# ---- Optimize --------------------------------------------------------------------------------------------------------


def test_optimize_shows_live_progress_and_the_moves_and_set_asides_of_its_result(
    open_as: Callable[..., MapPage], platform: Platform
):
    mp = open_as(f"alignment={platform.active_id}")
    page = mp.page
    # A what-if from the active alignment, made in the page.
    page.get_by_label("New draft").fill("optimize me")
    page.get_by_role("button", name="Create from active").click()
    page.wait_for_function("() => document.querySelector('#alignment-state').textContent.startsWith('draft')")
    mp.wait_ready()
    source_id = mp.hook("alignmentId")
    assert source_id != platform.active_id
    source_units = platform.units(source_id)

    assert page.get_by_label("Account potential", exact=True).is_checked()
    assert page.get_by_label("Tolerance of Account potential, %").input_value() == "5"
    redesign = page.get_by_label("Redesign from scratch (may move many units)")
    assert not redesign.is_checked()
    page.get_by_label("Time limit, s").fill("20")
    # Every figure the "best so far" shows, as it changes, and every job reading the page receives.
    page.evaluate(
        """() => {
            const el = document.querySelector('#optimize-best');
            window.shownBest = [];
            new MutationObserver(() => window.shownBest.push(el.hidden ? null : (el.dataset.value ?? null)))
                .observe(el, { attributes: true, childList: true, characterData: true, subtree: true });
        }"""
    )
    readings: list[Any] = []
    page.on("response", lambda r: readings.append(r) if "/assignment/v1/jobs/" in r.url else None)
    with page.expect_response(lambda r: r.url.endswith("/assignment/v1/design-jobs")) as created:
        page.get_by_role("button", name="Optimize", exact=True).click()
    sent = created.value.request.post_data_json
    assert "redesign" not in sent and sent["alignment_id"] == source_id
    assert sent["metrics"] == [{"metric": "account_potential", "tolerance": 0.05}]
    job_id = created.value.json()["job_id"]

    # Sample the bar every 250 ms while the job runs.
    samples: list[dict[str, Any]] = []
    deadline = time.monotonic() + 120
    while True:
        s = page.evaluate(
            """() => {
                const bar = document.querySelector('#optimize-progress');
                const r = bar.getBoundingClientRect();
                const side = document.querySelector('.sidebar').getBoundingClientRect();
                return {
                    value: bar.value, hidden: bar.hidden || r.height === 0,
                    inView: r.height > 0 && r.top >= side.top - 1 && r.bottom <= Math.min(side.bottom, innerHeight) + 1,
                    done: window.territoryMap.optimizeResult() !== null,
                };
            }"""
        )
        samples.append(s)
        if s["done"]:
            break
        assert time.monotonic() < deadline, samples[-5:]
        page.wait_for_timeout(250)

    running = [s for s in samples if not s["done"] and not s["hidden"]]
    values = [s["value"] for s in samples if not s["hidden"]]
    assert running, "the progress bar never showed"
    assert all(b >= a for a, b in zip(values, values[1:], strict=False)), f"the bar went backwards: {values}"
    assert values[-1] == 100
    assert all(s["inView"] for s in running), [s for s in running if not s["inView"]][:3]
    # The "best so far" follows the job's own figure, change by change.
    told = [
        ((r.json().get("result") or {}).get("progress") or {}).get("best_max_deviation_pct")
        for r in readings
        if r.request.method == "GET" and r.ok
    ]
    told = [b for b in told if isinstance(b, (int, float))]
    shown = [float(b) for b in page.evaluate("() => window.shownBest") if b is not None]
    # (on a quiet machine this small job can finish between two of the page's polls: then neither saw a figure)
    assert _changes(shown) == _changes([float(b) for b in told]), (shown, told)

    job = platform.ok(platform.http.get(f"/assignment/v1/jobs/{job_id}"))
    assert job["status"] == "succeeded", job
    result = job["result"]
    draft_id = result["draft_alignment_id"]
    page.wait_for_function("(id) => window.territoryMap.alignmentId === id", arg=draft_id)
    mp.wait_ready()
    figures = " | ".join(page.locator("#optimize-result li").all_text_contents())
    assert not re.search(r"\d(\.\d+)?e[+-]?\d", figures, re.IGNORECASE), f"scientific notation shown: {figures}"
    moved = result["units_moved"]
    assert f"{moved} unit{'' if moved == 1 else 's'} change territory" in figures, figures
    accounts = result["accounts_moved"]
    assert f"{accounts} account{'' if accounts == 1 else 's'} change owner" in figures, figures
    aside = result["set_aside"]["territories"]
    assert aside, "the whale's territory is set aside"
    for code in aside:
        assert code in page.locator("#optimize-result .set-aside").text_content()
    assert moved < len(source_units) / 2, "the default is a proportionate move, not a redesign"
    assert sum(1 for u, c in platform.units(draft_id).items() if c != source_units[u]) == moved

    # The result's draft is open and drawn.
    assert page.locator("#alignment").input_value() == draft_id
    assert page.locator("#alignment-state").text_content().startswith("draft")
    assert len(mp.hook("queryRenderedFeatures(...args)", "units")) == 100
    page.locator("#optimize-result").scroll_into_view_if_needed()
    mp.screenshot("optimize-live-result")

    # Another alignment: the old result goes.
    page.locator("#alignment").select_option(value=platform.active_id)
    page.wait_for_function("(id) => window.territoryMap.alignmentId === id", arg=platform.active_id)
    mp.wait_ready()
    assert page.locator("#optimize-result li").count() == 0
    assert page.locator("#optimize-status").text_content() == ""
    assert page.locator("#optimize-progress").is_hidden()


def test_redesign_from_scratch_is_sent_only_when_ticked(open_as: Callable[..., MapPage], platform: Platform):
    mp = open_as(f"alignment={platform.active_id}")
    page = mp.page
    bodies: list[dict[str, Any]] = []

    def refuse(route: Any) -> None:
        bodies.append(route.request.post_data_json)
        problem = {"title": "Invalid input", "status": 422, "detail": "checked by the test",
                   "errors": [{"field": "time_limit_s", "reason": "checked by the test"}]}  # fmt: skip
        route.fulfill(status=422, json=problem, headers={"content-type": "application/problem+json"})

    page.route("**/assignment/v1/design-jobs", refuse)
    optimize = page.get_by_role("button", name="Optimize", exact=True)
    max_moved = page.get_by_label("Max units moved")
    max_moved.fill("7")
    optimize.click()
    wait_text(mp, "#optimize-status", "Not started")
    page.get_by_label("Redesign from scratch (may move many units)").check()
    assert max_moved.is_disabled()  # a redesign has no move limit
    optimize.click()
    deadline = time.monotonic() + 10
    while len(bodies) < 2:
        assert time.monotonic() < deadline
        page.wait_for_timeout(100)
    assert "redesign" not in bodies[0] and bodies[0]["max_disruption"] == {"units": 7}
    assert bodies[1]["redesign"] is True and "max_disruption" not in bodies[1]


# ---- the address bar keeps the view ----------------------------------------------------------------------------------


def url_state(mp: MapPage) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(mp.page.url).query).items()}


def test_a_reload_and_a_shared_link_show_the_same_sales_force_alignment_metric_and_view(
    open_as: Callable[..., MapPage], platform: Platform, first_force: str
):
    draft = platform.draft("shared view")
    mp = open_as(f"alignment={draft['id']}")
    page = mp.page
    assert page.locator("#sales-force").input_value() == "field"
    page.wait_for_function("() => document.querySelectorAll('#balance-metric option').length > 1")
    metric = page.evaluate(
        "() => [...document.querySelectorAll('#balance-metric option')].map(o => o.value)"
        ".find(v => v !== document.querySelector('#balance-metric').value)"
    )
    page.get_by_label("Balance on").select_option(value=metric)
    page.wait_for_function("(m) => new URLSearchParams(location.search).get('metric') === m", arg=metric)
    assert url_state(mp) == {"sales_force": "field", "alignment": draft["id"], "metric": metric}

    page.reload()
    mp.wait_ready()
    page.wait_for_function("(m) => document.querySelector('#balance-metric').value === m", arg=metric)
    assert page.locator("#sales-force").input_value() == "field"
    assert page.locator("#alignment").input_value() == draft["id"]

    page.get_by_label("Compare with").select_option(value=platform.active_id)
    page.wait_for_function("() => new URLSearchParams(location.search).get('view') === 'compare'")
    mp.wait_ready()
    shared = url_state(mp)
    assert shared == {"sales_force": "field", "alignment": draft["id"], "metric": metric, "view": "compare",
                      "compare": platform.active_id}  # fmt: skip

    # The link, opened by someone else in another browser, shows the same map.
    other = open_as(urlsplit(page.url).query, role="manager")
    other.page.wait_for_function("() => !document.querySelector('#compare-pane').hidden")
    other.wait_ready()
    assert other.page.locator("#sales-force").input_value() == "field"
    assert other.page.locator("#alignment").input_value() == draft["id"]
    assert other.page.locator("#compare").input_value() == platform.active_id
    other.page.wait_for_function("(m) => document.querySelector('#balance-metric').value === m", arg=metric)
    assert url_state(other) == shared
    other.screenshot("shared-link")

    # Back to the map alone: the address says so.
    page.get_by_label("Compare with").select_option(value="")
    page.wait_for_function("() => !new URLSearchParams(location.search).has('view')")
    assert "compare" not in url_state(mp)


def test_invalid_values_in_the_address_fall_back_to_the_defaults_quietly(
    open_as: Callable[..., MapPage], platform: Platform, first_force: str
):
    bad = "sales_force=nowhere&alignment=not-an-id&metric=%3Cscript%3E&view=sideways&compare=..%2F..%2Fx"
    mp = open_as(bad)
    page = mp.page
    first_force_active = platform.ok(platform.http.get(f"/geo/v1/alignments?sales_force={first_force}&state=active"))
    assert page.locator("#sales-force").input_value() == first_force
    assert page.locator("#alignment").input_value() == first_force_active[0]["id"]
    assert page.locator("#compare-pane").is_hidden()
    assert "error" not in (page.locator("#messages").get_attribute("class") or "")
    state = url_state(mp)
    assert state["sales_force"] == first_force and state["alignment"] == first_force_active[0]["id"]
    assert "view" not in state and "compare" not in state and state.get("metric") != "<script>"

    # A valid alignment of `field` with a sales force that does not exist: the alignment decides.
    active = platform.active_id
    mp2 = open_as(f"sales_force=nowhere&alignment={active}&view=compare&compare={active}")
    assert mp2.page.locator("#sales-force").input_value() == "field"
    assert mp2.page.locator("#alignment").input_value() == active
    assert mp2.page.locator("#compare-pane").is_hidden()  # an alignment is not compared with itself
    assert "error" not in (mp2.page.locator("#messages").get_attribute("class") or "")
