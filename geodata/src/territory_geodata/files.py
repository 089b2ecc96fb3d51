"""Plain files the builder writes and the fixture loader reads: GeoJSON (RFC 7946) and CSV, byte-for-byte
deterministic for the same data (fixed column order, rounded coordinates, Python's shortest float repr)."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import shapely

from .cache import atomic_write_bytes

COORDINATE_DECIMALS = 5  # about 1 m: far below the 1:10m source's detail


def write_geojson(
    path: Path,
    ids: np.ndarray,
    properties: Mapping[str, np.ndarray],
    geometries: np.ndarray,
    decimals: int = COORDINATE_DECIMALS,
) -> None:
    rounded = shapely.transform(geometries, lambda xy: np.round(xy, decimals))
    columns = {name: np.asarray(values).tolist() for name, values in properties.items()}
    features = []
    for i, (feature_id, geometry) in enumerate(zip(ids.tolist(), rounded, strict=True)):
        props = {name: values[i] for name, values in columns.items()}
        features.append(
            {"type": "Feature", "id": feature_id, "properties": props, "geometry": geometry.__geo_interface__}
        )
    text = json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":"))
    atomic_write_bytes(path, text.encode("utf-8") + b"\n")


def read_geojson(path: Path) -> tuple[np.ndarray, dict[str, list], np.ndarray]:
    """(ids, properties by name, geometries) of a FeatureCollection."""
    with open(path, encoding="utf-8") as f:
        features = json.load(f)["features"]
    ids = np.array([str(feature["id"]) for feature in features])
    names = list(features[0]["properties"]) if features else []
    properties = {name: [feature["properties"][name] for feature in features] for name in names}
    geometries = shapely.from_geojson([json.dumps(feature["geometry"]) for feature in features])
    return ids, properties, np.asarray(geometries)


def write_csv(path: Path, columns: Mapping[str, np.ndarray]) -> None:
    lists = [np.asarray(values).tolist() for values in columns.values()]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(columns.keys())
        writer.writerows(zip(*lists, strict=True))
    tmp.replace(path)


def read_csv(path: Path, types: Mapping[str, type]) -> dict[str, np.ndarray]:
    """Columns named in ``types`` as arrays of str, int (int64), float (float64) or bool ('True'/'False')."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    columns: dict[str, np.ndarray] = {}
    for name, kind in types.items():
        values = [row[name] for row in rows]
        if kind is bool:
            columns[name] = np.array([v == "True" for v in values], dtype=bool)
        elif kind is int:
            columns[name] = np.array(values, dtype=np.int64)
        elif kind is float:
            columns[name] = np.array(values, dtype=np.float64)
        else:
            columns[name] = np.array(values, dtype=str)
    return columns
