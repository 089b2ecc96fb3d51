"""Validation (and, on request, repair) of the features of a unit layer: pure, vectorized with Shapely 2.

Every rule reports the offending feature ids with a reason; the caller stores nothing unless the
whole layer passes, or repairs what can be repaired when asked to and reports each repair.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

POLYGONAL = {"Polygon", "MultiPolygon"}


@dataclass(frozen=True)
class FeatureProblem:
    feature_id: str
    reason: str


@dataclass
class ValidatedLayer:
    ids: list[str]
    geometries: np.ndarray  # shapely geometries, lon/lat
    attributes: dict[str, np.ndarray]
    kind: str
    problems: list[FeatureProblem] = field(default_factory=list)
    repairs: list[FeatureProblem] = field(default_factory=list)


@dataclass(frozen=True)
class ValidationOptions:
    kind: str | None = None  # "polygon" | "point"; None: decided from the geometries
    max_vertices: int = 100_000
    repair: bool = False


def validate_features(
    ids: Sequence[object],
    wkbs: Sequence[bytes | None],
    attributes: Mapping[str, Sequence[object]],
    options: ValidationOptions,
) -> ValidatedLayer:
    problems: list[FeatureProblem] = []
    repairs: list[FeatureProblem] = []
    labels = [_label(i, raw) for i, raw in enumerate(ids)]

    seen: dict[str, int] = {}
    for i, raw in enumerate(ids):
        if raw is None or str(raw).strip() == "":
            problems.append(FeatureProblem(labels[i], "missing id"))
            continue
        key = str(raw).strip()
        if key in seen:
            problems.append(FeatureProblem(key, f"duplicate id (features #{seen[key] + 1} and #{i + 1})"))
        else:
            seen[key] = i

    geoms = np.empty(len(wkbs), dtype=object)
    for i, wkb in enumerate(wkbs):
        if wkb is None:
            continue
        try:
            geoms[i] = shapely.from_wkb(wkb)
        except shapely.errors.GEOSException as exc:
            fixed = shapely.from_wkb(wkb, on_invalid="fix") if options.repair else None
            reason = _wkb_reason(str(exc))
            if fixed is not None and not fixed.is_empty:
                geoms[i] = fixed
                repairs.append(FeatureProblem(labels[i], f"{reason}: closed"))
            else:
                problems.append(FeatureProblem(labels[i], reason))
                geoms[i] = shapely.from_wkt("GEOMETRYCOLLECTION EMPTY")

    missing = np.array([g is None for g in geoms])
    for i in np.flatnonzero(missing).tolist():
        problems.append(FeatureProblem(labels[i], "no geometry"))
    present = ~missing
    kinds = np.array([shapely.get_type_id(g) if g is not None else -1 for g in geoms])
    kind = options.kind or ("point" if present.any() and np.all(kinds[present] == 0) else "polygon")

    for i in np.flatnonzero(present).tolist():
        g = geoms[i]
        if g.is_empty:
            if not any(p.feature_id == labels[i] for p in problems):
                problems.append(FeatureProblem(labels[i], "empty geometry"))
            continue
        gtype = g.geom_type
        if kind == "polygon" and gtype not in POLYGONAL:
            problems.append(FeatureProblem(labels[i], f"{gtype} where a Polygon or MultiPolygon is expected"))
            continue
        if kind == "point" and gtype != "Point":
            problems.append(FeatureProblem(labels[i], f"{gtype} where a Point is expected"))
            continue
        minx, miny, maxx, maxy = g.bounds
        if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
            problems.append(
                FeatureProblem(
                    labels[i],
                    f"coordinates outside lon/lat ranges (bounds {minx:.3f}, {miny:.3f}, {maxx:.3f}, {maxy:.3f}): "
                    "send EPSG:4326 longitude/latitude",
                )
            )
            continue
        vertices = int(shapely.get_num_coordinates(g))
        if vertices > options.max_vertices:
            problems.append(
                FeatureProblem(labels[i], f"{vertices:,} vertices, more than the limit of {options.max_vertices:,}")
            )
            continue
        if kind == "polygon" and not g.is_valid:
            reason = shapely.is_valid_reason(g)
            if options.repair:
                repaired = _polygonal(shapely.make_valid(g))
                if repaired is None:
                    problems.append(FeatureProblem(labels[i], f"{reason}; repair left no polygon"))
                else:
                    geoms[i] = repaired
                    repairs.append(FeatureProblem(labels[i], f"{reason}: repaired with make_valid"))
            else:
                problems.append(FeatureProblem(labels[i], reason))

    columns: dict[str, np.ndarray] = {}
    for name, values in attributes.items():
        column = np.full(len(values), np.nan)
        for i, value in enumerate(values):
            number = _number(value)
            if number is None:
                problems.append(
                    FeatureProblem(
                        labels[i],
                        f"attribute {name!r} is missing"
                        if value in (None, "")
                        else f"attribute {name!r} is not a number: {str(value)[:40]!r}",
                    )
                )
            else:
                column[i] = number
        columns[name] = column

    return ValidatedLayer(
        ids=[str(i).strip() if i is not None else "" for i in ids],
        geometries=geoms,
        attributes=columns,
        kind=kind,
        problems=problems,
        repairs=repairs,
    )


def _label(i: int, raw: object) -> str:
    return str(raw).strip() if raw is not None and str(raw).strip() else f"#{i + 1}"


def _wkb_reason(message: str) -> str:
    if "closed" in message:
        return "ring is not closed (its first and last points differ)"
    return f"malformed geometry: {message.split(':', 1)[-1].strip()}"


def _number(value: object) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def _polygonal(geom: BaseGeometry) -> BaseGeometry | None:
    if geom.geom_type in POLYGONAL:
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in POLYGONAL]
    if not parts:
        return None
    return shapely.union_all(parts)
