"""The load test runs for a few seconds against the embedded platform it starts, with no error."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "load_test.py"


@pytest.mark.timeout(600)
def test_the_load_test_runs_lookups_and_upserts_together_without_errors():
    r = subprocess.run(
        [sys.executable, str(SCRIPT), "--duration", "5", "--lookup-workers", "2", "--upsert-workers", "1"],
        capture_output=True,
        text=True,
        timeout=540,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    rows = {
        m[0]: (int(m[1].replace(",", "")), int(m[2]))
        for m in re.findall(r"^(\w+)\s+([\d,]+)\s.*\s(\d+)$", r.stdout, re.M)
    }
    assert set(rows) == {"locate", "owner_of_location", "owner_of_account", "bulk_upsert", "all"}, r.stdout
    # Account lookups start once the first upsert is in: on a busy machine, 5 s may not get there.
    assert all(rows[op][0] > 0 for op in ("locate", "owner_of_location", "bulk_upsert")), r.stdout
    assert rows["all"][1] == 0
