"""Event throughput through the outbox: events/s from commit in geo-service to applied in metrics-service.

For each way to run (distributed: PostGIS + Kafka, separate relay and consumer processes; embedded: one
process, SQLite, in-process bus), N territory-created events are committed into geo-service's outbox
while its relay is down, then the relay starts and the clock runs until metrics-service's inbox holds
all N. Also reports the latency of single edits made through the HTTP API.

    uv run python benchmarks/outbox_throughput.py [--events 20000] [--modes kafka,embedded]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo_service.db.unit_of_work import UnitOfWork  # noqa: E402
from geo_service.domain.territory import Territory  # noqa: E402
from territory_shared.db.engine import create_engine, create_session_factory  # noqa: E402

from tests.e2e.platforms import DistributedPlatform, EmbeddedPlatform  # noqa: E402
from tests.support.auth import auth_headers
from tests.support.databases import fetch_all  # noqa: E402


async def commit_events(geo_db: str, tenant: str, n: int, per_tx: int = 500) -> float:
    engine = create_engine(geo_db)
    sessions = create_session_factory(engine)
    started = time.perf_counter()
    for start in range(0, n, per_tx):
        async with UnitOfWork(sessions, lambda: None) as uow:
            for i in range(start, min(n, start + per_tx)):
                territory, event = Territory.create(tenant, f"B{i}", "bench")
                await uow.territories.add(territory)
                uow.emit(tenant, territory.id, event)
            await uow.commit()
    await engine.dispose()
    return time.perf_counter() - started


def applied(metrics_db: str, tenant: str) -> int:
    rows = fetch_all(metrics_db, "SELECT count(*) AS n FROM territory_projection WHERE tenant_id = :t", t=tenant)
    return int(rows[0]["n"])


def edit_latency(platform, samples: int = 50) -> list[float]:  # type: ignore[no-untyped-def]
    tenant = auth_headers(f"lat-{uuid.uuid4().hex[:6]}")
    latencies = []
    with httpx.Client(timeout=10) as client:
        for i in range(samples):
            t0 = time.perf_counter()
            client.post(f"{platform.geo_url}/v1/territories", json={"code": f"L{i}", "name": "l"}, headers=tenant)
            while client.get(f"{platform.metrics_url}/v1/territory-count", headers=tenant).json()["territories"] <= i:
                time.sleep(0.002)
            latencies.append((time.perf_counter() - t0) * 1000)
    return latencies


def run(mode: str, n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        platform = DistributedPlatform(Path(tmp)) if mode == "kafka" else EmbeddedPlatform(Path(tmp))
        try:
            platform.start()
            latencies = edit_latency(platform)
            tenant = f"bench-{uuid.uuid4().hex[:6]}"
            # Hold the relay back so the clock measures draining the outbox, not the writer.
            if isinstance(platform, DistributedPlatform):
                platform.geo_relay.stop()
            else:
                platform.process.stop()
            write_s = asyncio.run(commit_events(platform.geo_db, tenant, n))
            started = time.perf_counter()
            if isinstance(platform, DistributedPlatform):
                platform.geo_relay.start()
            else:
                platform.start()
            while applied(platform.metrics_db, tenant) < n:
                time.sleep(0.05)
            drain_s = time.perf_counter() - started
            print(
                f"{mode:9s} events={n} write={n / write_s:,.0f}/s "
                f"commit->applied={n / drain_s:,.0f} events/s ({drain_s:.1f} s, incl. relay start) "
                f"edit->visible p50={statistics.median(latencies):.0f} ms "
                f"p95={statistics.quantiles(latencies, n=20)[18]:.0f} ms"
            )
        finally:
            platform.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--modes", default="kafka,embedded")
    args = parser.parse_args()
    for mode in args.modes.split(","):
        run(mode, args.events)


if __name__ == "__main__":
    main()
