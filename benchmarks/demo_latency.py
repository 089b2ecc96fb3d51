"""What a planner waits for on the demo, in the embedded mode (`make run`: SQLite, one process), over HTTP.

The demo (3,142 US counties, 100 territories of sales force `field`, 50,000 accounts) is built in a temporary
data folder by `territory-embedded` itself, started as a process on a free port; every call carries the admin
token it writes. Measured, each a few times:

1. saving a rule set: time to the answer (202), and until its job has applied it to every account;
2. deleting one account (`DELETE /assignment/v1/accounts/{id}`);
3. deleting 1,000 accounts at once (`POST /assignment/v1/accounts/bulk-delete`);
4. a realignment preview (`POST /assignment/v1/realignments/preview?alignment_id=<draft>`) of a draft that
   differs from the active alignment by 1 unit, and by 1,600 units (drafts made through geo-service's API:
   a copy of the active alignment, then moves).

    uv run python benchmarks/demo_latency.py [--repeat 5] [--rule-set-repeat 3]

Prints a table of the median and the maximum, in milliseconds.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.processes import free_port  # noqa: E402

RULE_SETS = [
    {"rules": [{"name": "key-hc", "precedence": 1, "condition": "industry = healthcare", "territory_code": "HC-KEY"}]},
    {"rules": [{"name": "key-fin", "precedence": 1, "condition": "potential >= 1e6", "territory_code": "KEY"}]},
]


def wait_until(check: Callable[[], object], deadline_s: float, what: str, interval_s: float = 0.05) -> object:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            found = check()
        except httpx.TransportError:
            found = None
        if found:
            return found
        time.sleep(interval_s)
    raise TimeoutError(f"{what}: not within {deadline_s} s")


def ms(seconds: float) -> float:
    return seconds * 1000


class Demo:
    """The embedded platform with the demo loaded, in a process of its own."""

    def __init__(self, folder: Path) -> None:
        self.data = folder / "data"
        self.url = f"http://127.0.0.1:{free_port()}"
        self.log = (folder / "platform.log").open("w")
        port = self.url.rsplit(":", 1)[1]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "territory_embedded.cli", "--port", port, "--data-dir", str(self.data)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def start(self) -> httpx.Client:
        wait_until(lambda: httpx.get(f"{self.url}/healthz").status_code == 200, 300, "the platform started", 0.2)
        token = (self.data / "admin-token.txt").read_text().strip()
        client = httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=600)
        started = time.monotonic()
        wait_until(lambda: isinstance(client.get("/v1/demo").json().get("accounts"), dict), 900, "the demo loaded", 0.5)
        print(f"demo loaded in {time.monotonic() - started:.0f} s: {client.get('/v1/demo').json()}", flush=True)
        return client

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def ok(response: httpx.Response, *statuses: int) -> httpx.Response:
    if response.status_code not in (statuses or (200,)):
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")
    return response


def rule_set_saves(client: httpx.Client, repeat: int) -> tuple[list[float], list[float]]:
    answered, done = [], []
    for i in range(repeat):
        started = time.perf_counter()
        r = ok(client.put("/assignment/v1/sales-forces/field/rule-set", json=RULE_SETS[i % 2]), 202)
        answered.append(time.perf_counter() - started)
        job_url = r.json()["job"]["location"]
        job = wait_until(
            lambda url=job_url: (j := client.get(url).json())["status"] not in ("queued", "running") and j,
            600,
            "the job",
        )
        done.append(time.perf_counter() - started)
        assert job["status"] == "succeeded", job  # type: ignore[index]
        time.sleep(1)  # let the relay and metrics-service take the job's events before the next figure
    return answered, done


def single_deletes(client: httpx.Client, ids: list[str], repeat: int) -> list[float]:
    times = []
    for external_id in ids[:repeat]:
        started = time.perf_counter()
        ok(client.delete(f"/assignment/v1/accounts/{external_id}"), 204)
        times.append(time.perf_counter() - started)
    return times


def bulk_deletes(client: httpx.Client, ids: list[str], repeat: int, size: int = 1000) -> list[float]:
    times = []
    for i in range(repeat):
        batch = ids[i * size : (i + 1) * size]
        started = time.perf_counter()
        report = ok(client.post("/assignment/v1/accounts/bulk-delete", json={"external_ids": batch})).json()
        times.append(time.perf_counter() - started)
        assert report["deleted"] == len(batch), report
        time.sleep(0.5)
    return times


def draft_differing_by(client: httpx.Client, active_id: str, units: int) -> str:
    """A copy of the active alignment with ``units`` units moved to another territory (spread over 16 targets)."""
    draft = ok(
        client.post(
            "/geo/v1/alignments",
            json={"name": f"moves {units}", "sales_force": "field", "copy_from": active_id},
        ),
        201,
    ).json()
    version = draft["version"]
    memberships = [m for m in ok(client.get(f"/geo/v1/alignments/{draft['id']}/units")).json() if m["territory_id"]]
    territories = sorted({m["territory_id"] for m in memberships})
    targets = territories[:: max(1, len(territories) // 16)][:16] if units > 1 else territories[:1]
    chosen: dict[str, list[str]] = {t: [] for t in targets}
    picked = 0
    for i, m in enumerate(memberships):
        target = targets[i % len(targets)]
        if picked == units or m["territory_id"] == target:
            continue
        chosen[target].append(m["unit_id"])
        picked += 1
    assert picked == units, f"only {picked} units to move"
    for target, unit_ids in chosen.items():
        if unit_ids:
            moved = ok(
                client.post(
                    f"/geo/v1/alignments/{draft['id']}/moves",
                    json={"unit_ids": unit_ids, "territory_id": target},
                    headers={"If-Match": f'"{version}"'},
                )
            ).json()
            version = moved["alignment"]["version"]
    return str(draft["id"])


def previews(client: httpx.Client, draft_id: str, repeat: int) -> tuple[list[float], dict[str, object]]:
    times, answer = [], {}
    for _ in range(repeat):
        started = time.perf_counter()
        answer = ok(client.post("/assignment/v1/realignments/preview", params={"alignment_id": draft_id})).json()
        times.append(time.perf_counter() - started)
    return times, answer


def live_ids(client: httpx.Client, wanted: int) -> list[str]:
    ids: list[str] = []
    url: str | None = "/assignment/v1/accounts?limit=1000"
    while url and len(ids) < wanted:
        page = ok(client.get(url)).json()
        ids += [a["external_id"] for a in page["items"]]
        url = page["next"]
    return ids[:wanted]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rule-set-repeat", type=int, default=3)
    args = parser.parse_args()
    rows: list[tuple[str, list[float], str]] = []
    with tempfile.TemporaryDirectory(prefix="demo-latency-") as folder:
        demo = Demo(Path(folder))
        try:
            client = demo.start()
            active_id = client.get("/v1/demo").json()["alignment_id"]
            # The rule sets name HC-KEY and KEY: account-based territories (no units), created first in a draft.
            body = {"name": "key accounts", "sales_force": "field", "copy_from": active_id}
            key_draft = ok(client.post("/geo/v1/alignments", json=body), 201).json()["id"]
            for code in ("HC-KEY", "KEY"):
                territory = {"code": code, "name": f"{code} accounts", "alignment_id": key_draft}
                ok(client.post("/geo/v1/territories", json=territory), 201)
            answered, done = rule_set_saves(client, args.rule_set_repeat)
            rows.append(("rule-set save: answer (202)", answered, ""))
            rows.append(("rule-set save: job done", done, "50,000 accounts recomputed"))
            ids = live_ids(client, args.repeat * 1001)
            rows.append(("delete one account", single_deletes(client, ids, args.repeat), ""))
            rows.append(("bulk delete 1,000 accounts", bulk_deletes(client, ids[args.repeat :], args.repeat), ""))
            for units in (1, 1600):
                draft_id = draft_differing_by(client, active_id, units)
                times, answer = previews(client, draft_id, args.repeat)
                moving = answer.get("accounts_moving", answer.get("accounts_moved", "?"))
                rows.append((f"preview, draft {units:,} unit(s) moved", times, f"accounts moving: {moving}"))
        finally:
            demo.stop()
    print()
    print(f"{'operation':<36} {'n':>3} {'median ms':>10} {'max ms':>10}  note")
    for name, times, note in rows:
        print(f"{name:<36} {len(times):>3} {ms(statistics.median(times)):>10.1f} {ms(max(times)):>10.1f}  {note}")


if __name__ == "__main__":
    main()
