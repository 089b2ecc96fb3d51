import csv
import json

import numpy as np
import pytest
from territory_optimizer.cli import main


def write_grid(path, rows=5, cols=5, heavy=None):
    rng = np.random.default_rng(3)
    features = []
    for r in range(rows):
        for c in range(cols):
            x, y = -80 + c * 0.1, 35 + r * 0.1
            ring = [[x, y], [x + 0.1, y], [x + 0.1, y + 0.1], [x, y + 0.1], [x, y]]
            q = r * cols + c
            value = float(rng.integers(5, 15)) if heavy is None or q != heavy else 10_000.0
            features.append(
                {
                    "type": "Feature",
                    "properties": {"code": f"Z{q:02d}", "accounts": value, "label": "x"},
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                }
            )
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def run(tmp_path, *extra, units=None):
    units = units or write_grid(tmp_path / "units.geojson")
    out = tmp_path / "plan.csv"
    code = main(
        [
            "optimize",
            "--units",
            str(units),
            "--id-column",
            "code",
            "--k",
            "3",
            "--out",
            str(out),
            "--time-limit",
            "30",
            *extra,
        ]
    )
    return code, out


def test_optimize_writes_one_row_per_unit_and_exits_zero(tmp_path, capsys):
    code, out = run(tmp_path, "--weight", "accounts:0.08")
    assert code == 0
    rows = list(csv.DictReader(out.open()))
    assert [r["unit_id"] for r in rows] == [f"Z{q:02d}" for q in range(25)]
    assert {r["territory"] for r in rows} == {"0", "1", "2"}
    printed = capsys.readouterr().out
    assert "max deviation" in printed and "every constraint met" in printed


def test_an_adjacency_file_is_used_when_given(tmp_path):
    edges = tmp_path / "edges.csv"
    lines = ["unit_a,unit_b"] + [f"Z{q:02d},Z{q + 1:02d}" for q in range(24)]
    edges.write_text("\n".join(lines) + "\n")
    code, out = run(tmp_path, "--weight", "accounts:0.2", "--adjacency", str(edges))
    assert code == 0
    labels = [int(r["territory"]) for r in csv.DictReader(out.open())]
    # along a path every territory is one run of consecutive units
    assert sum(1 for a, b in zip(labels, labels[1:], strict=False) if a != b) == 2


def test_a_plan_that_misses_the_balance_exits_one_and_says_why(tmp_path, capsys):
    units = write_grid(tmp_path / "units.geojson", heavy=12)
    code, out = run(tmp_path, "--weight", "accounts:0.05", units=units)
    assert code == 1
    assert out.exists()
    printed = capsys.readouterr().out
    assert "NOT met" in printed and "Z12" in printed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--weight", "missing:0.05"], "weight column 'missing' not found"),
        (["--weight", "label:0.05"], "non-numeric"),
        (["--weight", "accounts:abc"], "is not a number"),
        (["--weight", "accounts:1.5"], "fraction"),
    ],
)
def test_bad_input_exits_two_with_a_clear_message(tmp_path, capsys, args, message):
    code, _ = run(tmp_path, *args)
    assert code == 2
    assert message in capsys.readouterr().err


def test_more_territories_than_units_is_rejected(tmp_path, capsys):
    units = write_grid(tmp_path / "units.geojson")
    code = main(
        [
            "optimize",
            "--units",
            str(units),
            "--id-column",
            "code",
            "--weight",
            "accounts",
            "--k",
            "40",
            "--out",
            str(tmp_path / "p.csv"),
        ]
    )
    assert code == 2
    assert "more than the 25 units" in capsys.readouterr().err


def test_a_missing_id_column_is_rejected(tmp_path, capsys):
    units = write_grid(tmp_path / "units.geojson")
    code = main(
        [
            "optimize",
            "--units",
            str(units),
            "--id-column",
            "nope",
            "--weight",
            "accounts",
            "--k",
            "2",
            "--out",
            str(tmp_path / "p.csv"),
        ]
    )
    assert code == 2
    assert "id column 'nope' not found" in capsys.readouterr().err
