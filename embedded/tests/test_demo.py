"""The demo loads through the public APIs on the first start, and a second start does not load it again."""

from __future__ import annotations

import json
import time

from fastapi.testclient import TestClient
from territory_embedded.app import create_embedded_app

from tests.support.auth import auth_headers

DEMO = auth_headers("demo")


def wait_loaded(client: TestClient, deadline_s: float = 120) -> dict:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        status = client.get("/v1/demo", headers=DEMO).json()
        if status["status"] == "loaded":
            return status
        time.sleep(0.2)
    raise AssertionError(f"the demo did not load within {deadline_s} s")


def eventually(check, deadline_s: float, message: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.5)
    raise AssertionError(f"not true after {deadline_s} s: {message}")


def test_the_demo_shows_real_counties_in_a_published_alignment_and_loads_once(tmp_path):
    with TestClient(create_embedded_app(tmp_path / "data", load_demo_data=True)) as client:
        demo = wait_loaded(client)
        layer = client.get(f"/geo/v1/layers/{demo['layer_id']}", headers=DEMO).json()
        assert layer["unit_count"] == 3142 and "potential" in layer["attributes"]
        alignment = client.get(f"/geo/v1/alignments/{demo['alignment_id']}", headers=DEMO).json()
        assert alignment["state"] == "active" and alignment["sales_force"] == "field"
        shapes = json.loads(
            client.get(f"/geo/v1/alignments/{demo['alignment_id']}/territories.geojson", headers=DEMO).content
        )
        leaves = [f for f in shapes["features"] if f["properties"]["parent_id"]]
        assert len(leaves) >= 50 and all(f["geometry"] for f in leaves)
        boston = client.get("/geo/v1/locate?lon=-71.06&lat=42.36&sales_force=field", headers=DEMO).json()
        assert boston["unit_id"] == "25025" and boston["territory_code"]
        # The starting alignment leaves a market gap to fix: some counties have no territory.
        units = client.get(f"/geo/v1/alignments/{demo['alignment_id']}/units", headers=DEMO).json()
        assert 0 < sum(u["territory_id"] is None for u in units) < 100
        # Then reps, one per territory, and 50,000 accounts arrive through assignment-service's API.
        deadline = time.monotonic() + 300
        while not isinstance(client.get("/v1/demo", headers=DEMO).json()["accounts"], dict):
            assert time.monotonic() < deadline, "the demo's accounts did not load"
            time.sleep(0.5)
        assert client.get("/v1/demo", headers=DEMO).json()["accounts"]["accounts"] == 50_000
        owner = client.get("/assignment/v1/sales-forces/field/owner?account=ACC-0000002", headers=DEMO).json()
        assert owner["cause"] == "geography" and owner["territory_code"] and owner["rep_external_id"]
        assert len(client.get("/assignment/v1/reps?limit=500", headers=DEMO).json()) == 100
        # Once metrics-service has applied the events: it agrees with assignment-service on every territory, and
        # every territory with a roster entry shows its rep and utilization.
        consistency = eventually(
            lambda: (
                (c := client.get("/metrics/v1/sales-forces/field/consistency", headers=DEMO).json())["consistent"] and c
            ),
            240,
            "metrics-service agrees with assignment-service",
        )
        assert consistency["alignment_id"] == demo["alignment_id"] and consistency["territories_checked"] >= 100
        entries = client.get("/assignment/v1/roster-entries?sales_force=field", headers=DEMO).json()
        primary = {e["territory_code"]: e for e in entries if e["role"] == "primary"}
        assert len(primary) == 100
        body = client.get(f"/metrics/v1/alignments/{demo['alignment_id']}/metrics", headers=DEMO).json()
        leaves = {t["code"]: t for t in body["territories"] if t["leaf"]}
        for code, entry in primary.items():
            t = leaves[code]
            assert t["reps"] >= 1 and t["primary_rep_id"] == entry["rep_id"], code
            assert t["utilization"] is not None and t["utilization"] > 0, code

    with TestClient(create_embedded_app(tmp_path / "data", load_demo_data=True)) as client:
        again = client.get("/v1/demo", headers=DEMO).json()
        assert again["status"] == "loaded" and again["layer_id"] == demo["layer_id"]
        assert len(client.get("/geo/v1/layers", headers=DEMO).json()) == 1
