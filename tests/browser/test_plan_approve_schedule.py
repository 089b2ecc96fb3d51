"""Approval, scheduled publishing and quotas in the web map, in Chromium against the embedded platform.

A sales force with an approval policy: a planner submits a draft in the map, two approvers (each with a token of
their own) approve it level by level in their own browser, and only then does Publish come alive; a rejection asks
for a comment; an admin sees the override as a separate button. "Publish on…" takes a time in an explicit zone
(the browser's by default), lists the pending schedules with their local time and zone, cancels one and carries
out another a few seconds later. A quota plan shows each territory's quota in the panel, and a draft's change
against the active alignment.
"""

from __future__ import annotations

import datetime as dt
import random
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.support.auth import auth_headers, token

from .conftest import VIEWPORT, MapPage, Platform

WAKE = "37183"  # Raleigh, in TRIANGLE
DURHAM = "37063"
BROWSER_ZONE = "America/Chicago"
TWO_LEVELS = {
    "levels": [
        {"name": "Regional VP", "roles": [], "users": ["alice"]},
        {"name": "Sales Ops", "roles": [], "users": ["bob"]},
    ],
    "allow_self_approval": False,
}
ONE_LEVEL = {"levels": [{"name": "Regional VP", "roles": [], "users": ["alice"]}], "allow_self_approval": False}


@pytest.fixture(scope="module")
def platform(server: str, tmp_path_factory: pytest.TempPathFactory) -> Platform:
    """A tenant of its own (its policies and plans touch no other test): NC counties in four published territories."""
    p = Platform(server, f"plan-{uuid.uuid4().hex[:8]}")
    units = p.publish_by_longitude(p.import_nc(tmp_path_factory.mktemp("nc-plan"), "BIR74"))
    # Accounts with potential where people are born: what quotas are split by.
    rng = random.Random(7)
    weights = [max(1.0, float(u["attributes"].get("BIR74") or 0)) for u in units]
    accounts = [
        {"external_id": f"acct-{i}", "lon": u["centroid"][0], "lat": u["centroid"][1], "potential": rng.randint(1, 900)}
        for i, u in enumerate(rng.choices(units, weights=weights, k=300))
    ]
    p.ok(p.http.post("/assignment/v1/accounts/bulk", json=accounts))
    p.total_potential = sum(a["potential"] for a in accounts)  # type: ignore[attr-defined]
    return p


def wait_metrics_caught_up(p: Platform, alignment_id: str, deadline_s: float = 60) -> None:
    """metrics-service learns of alignments and accounts through events: wait until it has the alignment's version
    and state, and counts every account's potential in it."""
    geo = p.alignment(alignment_id)
    deadline = time.monotonic() + deadline_s
    while True:
        seen = {a["alignment_id"]: a for a in p.ok(p.http.get("/metrics/v1/alignments"))}.get(alignment_id)
        total = None
        if seen and seen["version"] >= geo["version"] and seen["state"] == geo["state"]:
            path = f"/metrics/v1/alignments/{alignment_id}/metrics?metric=account_potential"
            response = p.http.get(path)  # 422 until the first account arrives: no such metric yet
            if response.status_code == 200:
                leaves = [t for t in response.json()["territories"] if t["leaf"]]
                total = sum(t["values"].get("account_potential") or 0 for t in leaves)
                if total == p.total_potential:  # type: ignore[attr-defined]
                    return
        assert time.monotonic() < deadline, f"metrics-service has {seen} with account potential {total}"
        time.sleep(0.3)


def as_user(p: Platform, role: str, sub: str | None = None) -> dict[str, str]:
    return auth_headers(p.tenant, role, **({"sub": sub} if sub else {}))


@pytest.fixture
def open_as(browser: Any, platform: Platform) -> Iterator[Callable[..., MapPage]]:
    """Open the map in a browser of its own (zone America/Chicago) signed in as `role` / `sub`."""
    contexts: list[Any] = []
    pages: list[MapPage] = []

    def open_(alignment_id: str, role: str = "planner", sub: str | None = None) -> MapPage:
        context = browser.new_context(viewport=VIEWPORT, timezone_id=BROWSER_ZONE)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        mp = MapPage(page, platform)
        pages.append(mp)
        raw = token(platform.tenant, role, **({"sub": sub} if sub else {}))
        page.goto(f"{platform.url}/?alignment={alignment_id}#token={raw}")
        mp.wait_ready()
        return mp

    yield open_
    for c in contexts:
        c.close()
    errors = [e for mp in pages for e in mp.errors]
    assert not errors, f"the page raised: {errors}"


def approval(p: Platform, alignment_id: str) -> dict[str, Any]:
    return p.ok(p.http.get(f"/geo/v1/alignments/{alignment_id}/approval"))


def wait_text(mp: MapPage, selector: str, text: str, timeout: float = 20_000) -> str:
    mp.page.wait_for_function(
        "([s, t]) => (document.querySelector(s)?.textContent ?? '').includes(t)", arg=[selector, text], timeout=timeout
    )
    return mp.page.locator(selector).text_content() or ""


def approve_via_api(p: Platform, alignment_id: str, approvers: list[str]) -> None:
    p.ok(p.http.post(f"/geo/v1/alignments/{alignment_id}/submit", json={}, headers=as_user(p, "planner")))
    for who in approvers:
        p.ok(p.http.post(f"/geo/v1/alignments/{alignment_id}/approve", json={}, headers=as_user(p, "manager", who)))
    assert approval(p, alignment_id)["state"] == "approved"


# ---- approval ----------------------------------------------------------------------------------------------------


def test_a_draft_is_published_only_after_every_level_approved_it_in_the_map(
    open_as: Callable[..., MapPage], platform: Platform
):
    platform.ok(platform.http.put("/geo/v1/sales-forces/field/approval-policy", json=TWO_LEVELS))
    draft = platform.draft("needs approval")
    platform.move(draft["id"], [WAKE], "COAST")

    planner = open_as(draft["id"])
    page = planner.page
    assert "Approval required (2 levels): not submitted." in wait_text(planner, "#approval-state", "not submitted")
    assert page.get_by_role("button", name="Publish this draft").is_disabled()
    assert page.locator("#publish-approval-note").is_visible()
    assert "Approval required" in page.locator("#publish-approval-note").text_content()
    assert page.locator("#publish-override").is_hidden()  # a planner has no override
    assert page.get_by_role("button", name="Approve").is_hidden()

    page.get_by_label("Comment", exact=True).fill("Wake goes to the coast team")
    page.get_by_role("button", name="Submit for approval").click()
    wait_text(planner, "#approval-state", "Pending approval at level 1 of 2 (Regional VP)")
    state = approval(platform, draft["id"])
    assert state["state"] == "pending" and state["current_level"] == 1
    submitted = page.locator("#approval-steps li[data-decision=submitted]")
    assert submitted.get_attribute("data-by") == "test-planner"
    assert "Wake goes to the coast team" in submitted.text_content()
    # The planner submitted: the planner is no approver of either level.
    assert page.get_by_role("button", name="Approve").is_disabled()
    assert "Regional VP (alice)" in page.locator("#approval-hint").text_content()

    alice = open_as(draft["id"], "manager", "alice")
    wait_text(alice, "#approval-state", "level 1 of 2")
    assert alice.page.get_by_role("button", name="Approve").is_enabled()
    alice.page.get_by_label("Comment", exact=True).fill("Balanced enough")
    alice.page.get_by_role("button", name="Approve").click()
    wait_text(alice, "#approval-state", "Pending approval at level 2 of 2 (Sales Ops)")
    assert alice.page.get_by_role("button", name="Approve").is_disabled()  # level 2 is bob's
    assert approval(platform, draft["id"])["current_level"] == 2

    bob = open_as(draft["id"], "manager", "bob")
    wait_text(bob, "#approval-state", "level 2 of 2")
    bob.page.get_by_role("button", name="Approve").click()
    wait_text(bob, "#approval-state", "Approved")
    assert approval(platform, draft["id"])["state"] == "approved"

    # The planner's page follows the decisions of the others, and Publish comes alive.
    wait_text(planner, "#approval-state", "Approved (all 2 levels).")
    page.wait_for_function("() => !document.querySelector('#publish').disabled")
    assert page.locator("#publish-approval-note").is_hidden()
    steps = approval(platform, draft["id"])["steps"]
    shown = page.locator("#approval-steps li")
    assert shown.count() == len(steps) == 3
    for i, step in enumerate(steps):
        item = shown.nth(i)
        assert item.get_attribute("data-decision") == step["decision"]
        assert item.get_attribute("data-by") == step["by"]
        when = item.locator("time")
        assert when.get_attribute("datetime") == step["at"]
        # Shown as the clock reads in the chosen zone (the browser's, Chicago).
        at = dt.datetime.fromisoformat(step["at"].replace("Z", "+00:00"))
        local = (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).astimezone(ZoneInfo(BROWSER_ZONE))
        assert local.strftime("%b %-d, %Y") in when.text_content()
        assert when.text_content().endswith(("CST", "CDT"))
    alice_step = shown.nth(1)
    assert "level 1 (Regional VP)" in alice_step.text_content() and "Balanced enough" in alice_step.text_content()
    page.locator("#publish-section").scroll_into_view_if_needed()
    planner.screenshot("approval-approved")

    page.get_by_role("button", name="Publish this draft").click()
    page.locator("#publish-dialog").get_by_role("button", name="Publish", exact=True).click()
    page.wait_for_function("() => document.querySelector('#alignment-state').textContent.startsWith('active')")
    assert platform.active_id == draft["id"]


def test_a_rejection_asks_for_a_comment_and_an_admin_may_override(open_as: Callable[..., MapPage], platform: Platform):
    platform.ok(platform.http.put("/geo/v1/sales-forces/field/approval-policy", json=ONE_LEVEL))
    draft = platform.draft("to reject")
    platform.move(draft["id"], [DURHAM], "COAST")
    platform.ok(
        platform.http.post(
            f"/geo/v1/alignments/{draft['id']}/submit", json={"comment": "please"}, headers=as_user(platform, "planner")
        )
    )

    alice = open_as(draft["id"], "manager", "alice")
    page = alice.page
    wait_text(alice, "#approval-state", "Pending approval at level 1 of 1")
    page.get_by_role("button", name="Reject").click()
    ask = page.get_by_label("Why reject?")
    assert ask.is_visible()
    page.get_by_role("button", name="Reject draft").click()  # no reason given: the browser holds the form back
    assert ask.evaluate("el => el.validity.valueMissing") is True
    assert approval(platform, draft["id"])["state"] == "pending"
    ask.fill("Durham belongs to the Triangle")
    page.get_by_role("button", name="Reject draft").click()
    wait_text(alice, "#approval-state", "Rejected.")
    rejected = page.locator("#approval-steps li[data-decision=rejected]")
    assert rejected.get_attribute("data-by") == "alice"
    assert "Durham belongs to the Triangle" in rejected.text_content()
    state = approval(platform, draft["id"])
    assert state["state"] == "rejected" and state["steps"][-1]["comment"] == "Durham belongs to the Triangle"

    # The planner sees the rejection and may submit again; only an admin sees the override.
    planner = open_as(draft["id"])
    wait_text(planner, "#approval-state", "Rejected.")
    assert planner.page.get_by_role("button", name="Submit for approval").is_enabled()
    assert planner.page.get_by_role("button", name="Publish this draft").is_disabled()
    assert planner.page.locator("#publish-override").is_hidden()

    admin = open_as(draft["id"], "admin")
    wait_text(admin, "#approval-state", "Rejected.")
    publish = admin.page.get_by_role("button", name="Publish this draft")
    override = admin.page.get_by_role("button", name="Publish without approval (admin override)")
    assert publish.is_disabled() and override.is_visible()
    admin.page.locator("#publish-section").scroll_into_view_if_needed()
    admin.screenshot("approval-rejected-admin")
    admin.page.once("dialog", lambda d: d.accept())
    override.click()
    admin.page.wait_for_function("() => document.querySelector('#alignment-state').textContent.startsWith('active')")
    assert platform.active_id == draft["id"]
    assert approval(platform, draft["id"])["steps"][-1]["decision"] == "overridden"


# ---- scheduled publishing ----------------------------------------------------------------------------------------


def test_a_publish_is_scheduled_in_an_explicit_zone_listed_cancelled_and_carried_out(
    open_as: Callable[..., MapPage], platform: Platform
):
    platform.ok(platform.http.put("/geo/v1/sales-forces/field/approval-policy", json=ONE_LEVEL))
    later = platform.draft("later")
    soon = platform.draft("soon")
    platform.move(soon["id"], [WAKE], "COAST")

    planner = open_as(later["id"])
    page = planner.page
    page.locator("#schedule").wait_for()
    # The zone is explicit and the browser's by default.
    assert page.get_by_label("Time zone").input_value() == BROWSER_ZONE
    assert "Times in America/Chicago (your browser's zone)." in page.locator("#schedule-zone-note").text_content()
    # Not approved yet: no schedule.
    page.wait_for_function("() => document.querySelector('#schedule-publish').disabled")
    assert "Approval required" in (page.locator("#schedule-publish").get_attribute("title") or "")

    approve_via_api(platform, later["id"], ["alice"])
    approve_via_api(platform, soon["id"], ["alice"])
    planner.page.reload()
    planner.wait_ready()
    page.wait_for_function("() => !document.querySelector('#schedule-publish').disabled")

    # A time in the past is refused, with the reason.
    page.get_by_label("Publish on", exact=True).fill("2020-01-06T09:00")
    page.get_by_role("button", name="Schedule publish").click()
    assert "Not scheduled" in wait_text(planner, "#messages", "Not scheduled")
    assert page.locator("#schedule-list li[data-schedule-id]").count() == 0

    # "later": tomorrow 09:00 in Berlin.
    tomorrow = (dt.datetime.now(ZoneInfo("Europe/Berlin")) + dt.timedelta(days=1)).date()
    page.get_by_label("Time zone").select_option("Europe/Berlin")
    page.get_by_label("Publish on", exact=True).fill(f"{tomorrow.isoformat()}T09:00")
    page.get_by_role("button", name="Schedule publish").click()
    page.wait_for_selector(f"#schedule-list li[data-alignment-id='{later['id']}']")

    # "soon": a few seconds ahead, in the browser's zone.
    page.locator("#alignment").select_option(soon["id"])
    page.wait_for_function("(id) => window.territoryMap.alignmentId === id", arg=soon["id"])
    planner.wait_ready()
    page.get_by_label("Time zone").select_option(BROWSER_ZONE)
    at = (dt.datetime.now(ZoneInfo(BROWSER_ZONE)) + dt.timedelta(seconds=15)).replace(microsecond=0)
    if at.second == 0:  # whole minutes are written without seconds
        at += dt.timedelta(seconds=1)
    page.wait_for_function("() => !document.querySelector('#schedule-publish').disabled")
    page.get_by_label("Publish on", exact=True).fill(at.strftime("%Y-%m-%dT%H:%M:%S"))
    page.get_by_role("button", name="Schedule publish").click()
    page.wait_for_selector(f"#schedule-list li[data-alignment-id='{soon['id']}']")

    pending = {
        s["alignment_id"]: s
        for s in platform.ok(platform.http.get("/geo/v1/schedules?sales_force=field&state=scheduled"))
    }
    assert set(pending) == {later["id"], soon["id"]}
    assert pending[later["id"]]["time_zone"] == "Europe/Berlin"
    assert pending[soon["id"]]["time_zone"] == BROWSER_ZONE
    berlin = page.locator(f"#schedule-list li[data-alignment-id='{later['id']}']").text_content()
    assert f"{tomorrow:%b} {tomorrow.day}, {tomorrow.year}, 9:00 AM Europe/Berlin" in berlin
    assert "C" in berlin.split("Europe/Berlin", 1)[1]  # and the same moment on the Chicago clock (CST / CDT)
    chicago = page.locator(f"#schedule-list li[data-alignment-id='{soon['id']}']").text_content()
    assert f"{at:%I:%M:%S %p}".lstrip("0") in chicago and BROWSER_ZONE in chicago
    page.locator("#schedule").scroll_into_view_if_needed()
    planner.screenshot("schedule-listed")

    page.get_by_role("button", name="Cancel the scheduled publish of later").click()
    page.wait_for_selector(f"#schedule-list li[data-alignment-id='{later['id']}']", state="detached")
    cancelled = platform.ok(platform.http.get(f"/geo/v1/schedules/{pending[later['id']]['id']}"))
    assert cancelled["state"] == "cancelled"

    # "soon" is published by geo-service when due; the page notices and shows it active.
    assert "Published on schedule" in wait_text(planner, "#messages", "Published on schedule", timeout=90_000)
    page.wait_for_function("() => document.querySelector('#alignment-state').textContent.startsWith('active')")
    assert platform.active_id == soon["id"]
    done = platform.ok(platform.http.get(f"/geo/v1/schedules/{pending[soon['id']]['id']}"))
    assert done["state"] == "done"
    assert page.locator("#schedule-list li[data-schedule-id]").count() == 0


# ---- quotas ------------------------------------------------------------------------------------------------------


def amount(v: float) -> str:
    """As the map writes amounts: 1.1 M, 950 k, 9,500."""
    a = abs(v)
    if a >= 1e9:
        return f"{v / 1e9:.1f} B"
    if a >= 1e6:
        return f"{v / 1e6:.1f} M"
    if a >= 1e4:
        return f"{v / 1e3:.0f} k"
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:.1f}"


def quotas(p: Platform, period: str, alignment_id: str | None = None) -> dict[str, float]:
    """Quota per territory code: as the quotas stand, or under `alignment_id` from today."""
    q = f"?alignment_id={alignment_id}" if alignment_id else ""
    sheet = p.ok(p.http.get(f"/metrics/v1/sales-forces/field/quota-plans/{period}/quotas{q}"))
    return {t["territory_code"]: t["quota"] for t in sheet["territories"]}


def quota_changes(p: Platform, period: str, draft_id: str) -> dict[str, dict[str, float]]:
    body = p.ok(
        p.http.get(f"/metrics/v1/sales-forces/field/quota-plans/{period}/quotas/compare?alignment_id={draft_id}")
    )
    return {t["territory_code"]: t for t in body["territories"]}


def showing(mp: MapPage, period: str, alignment_id: str) -> None:
    """Wait until the panel shows the quotas of `period` under `alignment_id`."""
    mp.page.wait_for_selector(
        f"#quota-controls[data-period='{period}'][data-alignment-id='{alignment_id}']", state="attached"
    )
    mp.page.wait_for_function(
        "() => document.querySelectorAll('#territory-list li .quota').length"
        " === document.querySelectorAll('#territory-list li').length"
    )


def shown_quotas(mp: MapPage) -> dict[str, dict[str, str | None]]:
    return mp.page.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('#territory-list li')]"
        ".filter(li => li.querySelector('.quota'))"
        ".map(li => { const q = li.querySelector('.quota');"
        " return [li.dataset.code, {quota: q.dataset.quota, change: q.dataset.change ?? null,"
        " text: q.textContent}]; }))"
    )


def test_quotas_per_territory_show_in_the_panel_with_a_drafts_change(
    open_as: Callable[..., MapPage], platform: Platform
):
    wait_metrics_caught_up(platform, platform.active_id)
    plans = (("2027", 12_000_000, {"WEST": 250_000, "COAST": -250_000}), ("2026", 9_000_000, {}))
    for period, goal, adjustments in plans:
        plan = {
            "goal": goal,
            "starts_on": f"{period}-01-01",
            "ends_on": f"{period}-12-31",
            "method": "potential",
            "adjustments": adjustments,
        }
        response = platform.http.put(f"/metrics/v1/sales-forces/field/quota-plans/{period}", json=plan)
        assert response.status_code in (200, 201), response.text
    active = platform.active_id
    draft = platform.draft("quota what-if")
    platform.move(draft["id"], [WAKE, DURHAM], "WEST")  # from the Triangle or the coast, far from the mountains
    wait_metrics_caught_up(platform, draft["id"])

    mp = open_as(active)
    page = mp.page
    page.get_by_label("Quotas for").wait_for()
    page.get_by_label("Quotas for").select_option("2027")
    showing(mp, "2027", active)
    expected = quotas(platform, "2027")
    shown = shown_quotas(mp)
    for code, quota in expected.items():
        assert float(shown[code]["quota"]) == pytest.approx(quota)
        assert shown[code]["text"] == f"quota {amount(quota)}"
        assert shown[code]["change"] is None  # the active alignment: nothing to compare with
    assert "Goal 12.0 M split by potential." in page.locator("#quota-note").text_content()

    # Another period from the plans: other figures.
    page.get_by_label("Quotas for").select_option("2026")
    showing(mp, "2026", active)
    assert "Goal 9.0 M" in page.locator("#quota-note").text_content()
    shown = shown_quotas(mp)
    for code, quota in quotas(platform, "2026").items():
        assert float(shown[code]["quota"]) == pytest.approx(quota)

    # The draft: what publishing it today would give each territory, and the change against the quotas as they stand.
    page.locator("#alignment").select_option(draft["id"])
    page.wait_for_function("(id) => window.territoryMap.alignmentId === id", arg=draft["id"])
    page.get_by_label("Quotas for").select_option("2027")
    showing(mp, "2027", draft["id"])
    changes = quota_changes(platform, "2027", draft["id"])
    assert changes["WEST"]["change"] > 0 and min(c["change"] for c in changes.values()) < 0
    assert changes["WEST"]["after"] == pytest.approx(quotas(platform, "2027", draft["id"])["WEST"])
    shown = shown_quotas(mp)
    for code, c in changes.items():
        assert float(shown[code]["quota"]) == pytest.approx(c["after"])
        assert float(shown[code]["change"]) == pytest.approx(c["change"])
        if c["change"] == 0:
            assert shown[code]["text"] == f"quota {amount(c['after'])} (no change)"
            continue
        sign = "+" if c["change"] > 0 else "−"
        pct = f"{sign}{abs(c['change'] / c['before']) * 100:.1f}%"
        assert shown[code]["text"] == f"quota {amount(c['after'])} ({sign}{amount(abs(c['change']))}, {pct})"
    assert "against the quotas as they stand" in page.locator("#quota-note").text_content()
    page.locator("#territory-list").scroll_into_view_if_needed()
    mp.screenshot("quotas-draft")
