"""`territory optimize`: design territories from a GeoJSON / GeoPackage of units and write PLAN.csv.

Exit codes: 0 the plan meets every constraint, 1 it misses one (the figures say which), 2 bad input.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import math
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import shapely

from territory_optimizer.problem import Metric, Options, Problem, ProblemError, Progress
from territory_optimizer.shapes import unit_shapes
from territory_optimizer.solver import Plan, optimize

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

EXIT_OK, EXIT_INFEASIBLE, EXIT_BAD_INPUT = 0, 1, 2


class InputError(Exception):
    """Bad input: reported on one line, exit code 2."""


@dataclass(frozen=True)
class Units:
    ids: list[str]
    geoms: np.ndarray
    columns: dict[str, list[object]]
    crs: str


def read_units(path: Path, id_column: str) -> Units:
    if not path.exists():
        raise InputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        ids, geoms, columns, crs = _read_geojson(path)
    elif suffix == ".gpkg":
        ids, geoms, columns, crs = _read_geopackage(path)
    else:
        raise InputError(f"{path}: expected a .geojson/.json or .gpkg file")
    if id_column not in columns:
        raise InputError(f"id column {id_column!r} not found; columns are: {', '.join(sorted(columns)) or '(none)'}")
    unit_ids = ["" if v is None else str(v) for v in columns[id_column]]
    if any(u == "" for u in unit_ids):
        raise InputError(f"id column {id_column!r} has empty values")
    dupes = sorted({u for u in unit_ids if unit_ids.count(u) > 1}) if len(set(unit_ids)) != len(unit_ids) else []
    if dupes:
        raise InputError(f"id column {id_column!r} has duplicate values, e.g. {dupes[:3]}")
    for q, g in enumerate(geoms):
        if g is None or g.is_empty or g.geom_type not in ("Polygon", "MultiPolygon"):
            raise InputError(f"unit {unit_ids[q]!r} has no polygon geometry")
    del ids
    return Units(unit_ids, np.asarray(geoms, dtype=object), columns, crs)


def _read_geojson(path: Path) -> tuple[None, list[BaseGeometry | None], dict[str, list[object]], str]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid JSON ({exc})") from exc
    features = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(features, list) or not features:
        raise InputError(f"{path}: not a GeoJSON FeatureCollection with features")
    columns: dict[str, list[object]] = {}
    geoms = []
    for q, feature in enumerate(features):
        props = dict(feature.get("properties") or {})
        # RFC 7946 keeps a feature's id outside its properties; offer it as the column "id", as GDAL does.
        if "id" in feature and "id" not in props:
            props["id"] = feature["id"]
        for key in props:
            columns.setdefault(key, [None] * q)
        for key, col in columns.items():
            col.append(props.get(key))
        try:
            geoms.append(shapely.geometry.shape(feature["geometry"]) if feature.get("geometry") else None)
        except Exception as exc:
            raise InputError(f"{path}: feature {q} has an invalid geometry ({exc})") from exc
    return None, geoms, columns, "EPSG:4326"


def _read_geopackage(path: Path) -> tuple[None, list[BaseGeometry | None], dict[str, list[object]], str]:
    try:
        import pyogrio
    except ImportError as exc:
        raise InputError("reading GeoPackage needs pyogrio: install territory-optimizer[gpkg]") from exc
    meta, _, wkb, fields = pyogrio.raw.read(path)
    columns = {str(name): list(arr.tolist()) for name, arr in zip(meta["fields"], fields, strict=True)}
    crs = meta.get("crs") or "EPSG:4326"
    return None, list(shapely.from_wkb(wkb)), columns, crs


def parse_weight(spec: str) -> tuple[str, float | None]:
    column, sep, tol = spec.rpartition(":") if ":" in spec else (spec, "", "")
    if not sep:
        return spec, None
    try:
        value = float(tol)
    except ValueError:
        raise InputError(f"--weight {spec!r}: tolerance {tol!r} is not a number (a fraction: 0.01 = +-1%)") from None
    if not math.isfinite(value) or not 0 <= value < 1:
        raise InputError(f"--weight {spec!r}: tolerance must be a fraction in [0, 1) (0.01 = +-1%), got {tol}")
    if not column:
        raise InputError(f"--weight {spec!r}: no column name")
    return column, value


def weight_values(units: Units, column: str) -> np.ndarray:
    if column not in units.columns:
        raise InputError(f"weight column {column!r} not found; columns are: {', '.join(sorted(units.columns))}")
    out = np.zeros(len(units.ids))
    for q, raw in enumerate(units.columns[column]):
        try:
            value = float(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise InputError(f"weight column {column!r}: unit {units.ids[q]!r} has non-numeric value {raw!r}") from None
        if not math.isfinite(value) or value < 0:
            raise InputError(f"weight column {column!r}: unit {units.ids[q]!r} has invalid value {raw!r}")
        out[q] = value
    return out


def read_edges(path: Path, ids: list[str]) -> np.ndarray:
    index = {u: q for q, u in enumerate(ids)}
    if not path.exists():
        raise InputError(f"{path}: no such file")
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None or not {"unit_a", "unit_b"} <= set(reader.fieldnames):
            raise InputError(f"{path}: header must be unit_a,unit_b")
        edges = []
        for line, row in enumerate(reader, start=2):
            a, b = (row["unit_a"] or "").strip(), (row["unit_b"] or "").strip()
            for u in (a, b):
                if u not in index:
                    raise InputError(f"{path}:{line}: unknown unit {u!r}")
            if a != b:
                edges.append((index[a], index[b]))
    return np.asarray(edges, dtype=np.int64).reshape(-1, 2)


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """HiGHS (inside scipy) may print debug lines on the C stdout; keep the CLI's stdout for the figures."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _print_figures(plan: Plan, island_links: int) -> None:
    f = plan.figures
    print(f"territories: {len(f.sizes)}  units: {len(plan.assignment)}  island links added: {island_links}")
    for m in f.metrics:
        tol = f"+-{m.tolerance * 100:g}%" if m.tolerance is not None else "not balanced"
        lo, hi = min(m.totals), max(m.totals)
        print(
            f"{m.name}: max deviation {m.max_deviation * 100:.2f}% ({tol}), CV {m.cv:.4f}, "
            f"territory totals {lo:,.6g} .. {hi:,.6g}"
        )
    print(f"non-contiguous territories: {len(f.non_contiguous)}")
    if f.mean_polsby_popper is not None:
        print(f"mean Polsby-Popper (equal-area): {f.mean_polsby_popper:.3f}")
    print(f"time: {plan.elapsed_s:.1f} s ({plan.stopped_by})")
    if plan.feasible:
        print("result: every constraint met")
    else:
        print(f"result: NOT met ({len(plan.violations)} violations)")
        for v in plan.infeasible_reasons:
            print(f"  why: {v.detail}")
        for v in plan.violations[:20]:
            print(f"  - {v.detail}")


def optimize_command(args: argparse.Namespace) -> int:
    units = read_units(Path(args.units), args.id_column)
    metrics: list[Metric] = []
    for spec in args.weight:
        column, tol = parse_weight(spec)
        if any(m.name == column for m in metrics):
            raise InputError(f"weight column {column!r} given twice")
        metrics.append(Metric(column, weight_values(units, column), tol))
    if args.k < 1:
        raise InputError(f"--k must be at least 1, got {args.k}")
    if args.k > len(units.ids):
        raise InputError(f"--k {args.k} is more than the {len(units.ids)} units")
    if args.time_limit <= 0:
        raise InputError("--time-limit must be positive")
    edges = read_edges(Path(args.adjacency), units.ids) if args.adjacency else None
    shapes = unit_shapes(units.geoms, units.crs, edges=edges)
    problem = Problem(unit_ids=units.ids, metrics=metrics, edges=shapes.edges, k=args.k, geometry=shapes.geometry)

    def progress(p: Progress) -> None:
        if args.progress:
            dev = "-" if p.best_max_deviation is None else f"{p.best_max_deviation * 100:.2f}%"
            print(f"[{p.elapsed_s:6.1f}s] {p.stage:7s} {p.percent:5.1f}%  best max deviation {dev}", file=sys.stderr)

    with _quiet_stdout():
        plan = optimize(problem, Options(seed=args.seed, time_limit_s=args.time_limit, progress=progress))
    out = Path(args.out)
    with out.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["unit_id", "territory"])
        for unit, territory in zip(units.ids, plan.assignment.tolist(), strict=True):
            writer.writerow([unit, territory])
    _print_figures(plan, len(shapes.island_links))
    print(f"plan written to {out}")
    return EXIT_OK if plan.feasible else EXIT_INFEASIBLE


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="territory", description="Territory design tools.")
    sub = parser.add_subparsers(dest="command", required=True)
    opt = sub.add_parser("optimize", help="balanced, contiguous, compact territories from unit polygons")
    opt.add_argument("--units", required=True, help="GeoJSON or GeoPackage of unit polygons (lon/lat)")
    opt.add_argument("--id-column", required=True, help="property holding the unit id")
    opt.add_argument(
        "--weight",
        required=True,
        action="append",
        metavar="COL[:TOLERANCE]",
        help="metric to balance, with its tolerance as a fraction (0.01 = +-1%%); repeatable",
    )
    opt.add_argument("--k", required=True, type=int, help="number of territories")
    opt.add_argument("--out", required=True, help="PLAN.csv to write (unit_id,territory)")
    opt.add_argument("--adjacency", help="EDGES.csv with header unit_a,unit_b (default: computed from the shapes)")
    opt.add_argument("--time-limit", type=float, default=60.0, help="seconds (default 60)")
    opt.add_argument("--seed", type=int, default=0)
    opt.add_argument("--progress", action="store_true", help="report progress on stderr")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "optimize":
            return optimize_command(args)
    except (InputError, ProblemError) as exc:
        print(f"territory: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
