"""The Optimize panel on the running demo, in Chromium, as a planner uses it: a draft made from `field`'s active
alignment, Optimize with account potential +-5% and account count +-10%, the progress bar sampled every 250 ms.

    uv run --frozen territory-embedded --port 8766 --data-dir /tmp/demo-opt      # in another shell
    uv run --frozen python benchmarks/optimize_panel_demo.py --url http://127.0.0.1:8766 --data-dir /tmp/demo-opt

Prints how long the job took, whether the bar ever went back, whether it stayed in view, the "best so far" figures
the page showed, and the result lines (moves, set-aside territories, outcome against the source). Needs Chromium
(`/usr/bin/chromium`, installed by the test set-up).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default="http://127.0.0.1:8766")
    ap.add_argument("--data-dir", required=True, help="the demo's data folder (for its admin token)")
    ap.add_argument("--time-limit", type=int, default=45)
    ap.add_argument("--screenshot", default="optimize-panel-demo.png")
    args = ap.parse_args()
    token = (Path(args.data_dir) / "admin-token.txt").read_text().strip()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{args.url}/?sales_force=field#token={token}")
        page.wait_for_function("() => window.territoryMap && window.territoryMap.ready", timeout=120_000)
        page.get_by_label("New draft").fill(f"optimize {time.strftime('%H:%M:%S')}")
        page.get_by_role("button", name="Create from active").click()
        page.wait_for_function("() => document.querySelector('#alignment-state').textContent.startsWith('draft')")
        page.wait_for_function("() => window.territoryMap.ready", timeout=120_000)
        page.get_by_label("Account count", exact=True).check()
        page.get_by_label("Tolerance of Account count, %").fill("10")
        page.get_by_label("Time limit, s").fill(str(args.time_limit))
        started = time.monotonic()
        page.get_by_role("button", name="Optimize", exact=True).click()
        samples: list[tuple[float, float, bool, str]] = []
        while True:
            s = page.evaluate(
                """() => {
                    const bar = document.querySelector('#optimize-progress');
                    const r = bar.getBoundingClientRect();
                    const best = document.querySelector('#optimize-best');
                    return [bar.value, r.height > 0 && r.bottom <= innerHeight + 1, best.hidden ? '' : best.textContent,
                            window.territoryMap.optimizeResult() !== null];
                }"""
            )
            samples.append((round(time.monotonic() - started, 2), s[0], s[1], s[2]))
            if s[3] or time.monotonic() - started > args.time_limit + 120:
                break
            page.wait_for_timeout(250)
        took = time.monotonic() - started
        values = [v for _, v, _, _ in samples]
        back = [(a, b) for a, b in zip(values, values[1:], strict=False) if b < a]
        shown = []
        for _, _, _, best in samples:
            if best and (not shown or shown[-1] != best):
                shown.append(best)
        print(f"job shown done after {took:.1f} s (limit {args.time_limit} s); {len(samples)} samples")
        print(f"progress: {values[0]:.0f} -> {values[-1]:.0f}; went back {len(back)} times {back[:3]}")
        print(f"bar in view while running: {all(v for _, val, v, _ in samples if 0 < val < 100)}")
        print("best so far, as shown:", " | ".join(shown[:12]))
        print("result:")
        for line in page.locator("#optimize-result li").all_text_contents():
            print("  -", line)
        page.locator("#optimize-result").scroll_into_view_if_needed()
        page.screenshot(path=args.screenshot)
        print(f"page errors: {errors or 'none'}; screenshot {args.screenshot}")
        browser.close()


if __name__ == "__main__":
    main()
