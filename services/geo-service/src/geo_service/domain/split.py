"""Units split into the finer units of another layer: the pieces of a derived layer (pure, Shapely 2).

A unit too heavy for any territory (a county holding three territories' potential) is replaced by the finer units
(approximate ZIP areas, H3 cells) clipped to its shape. The pieces tile the split unit exactly: a finer unit whose
part inside it is a sliver is dropped, and whatever of the split unit no kept piece covers (those slivers, gaps
in the finer layer) joins the piece it shares the longest border with, so the map keeps no hole and every point of
the split unit still lies in exactly one piece.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from territory_shared.errors import InvalidInput
from territory_shared.geometry.projection import choose_equal_area_crs, to_equal_area

# A piece is kept when its area is more than this share of the finer unit's or of the split unit's.
SLIVER = 0.001
PREFIX = re.compile(r"^[a-z][a-z0-9]{0,11}$")
MAX_UNIT_ID = 100  # the units table's unit_id length
# Words of a layer's name that say what its units are, and the prefix their pieces get.
_KINDS: dict[str, str] = {
    "zip": "zip",
    "zips": "zip",
    "zcta": "zip",
    "zctas": "zip",
    "postcode": "postcode",
    "postcodes": "postcode",
    "h3": "h3",
    "hex": "hex",
    "hexagon": "hex",
    "hexagons": "hex",
    "tract": "tract",
    "tracts": "tract",
    "block": "block",
    "blocks": "block",
    "county": "county",
    "counties": "county",
    "grid": "grid",
    "cell": "cell",
    "cells": "cell",
}
_NOT_A_KIND = {"us", "usa", "the", "of", "and", "approximate", "approx", "official", "areas", "area", "units"}


@dataclass(frozen=True)
class SourceUnit:
    """A unit as the split reads it: id, lon/lat geometry and numeric attributes."""

    unit_id: str
    geometry: BaseGeometry
    attributes: Mapping[str, float]


@dataclass(frozen=True)
class Piece:
    unit_id: str
    split_unit: str
    geometry: BaseGeometry  # lon/lat, polygonal (one or several parts)
    attributes: dict[str, float]
    source: dict[str, Any]  # the finer unit it comes from, the unit it split and its area share


def default_prefix(layer_name: str) -> str:
    """A short prefix for the pieces' ids, from what the finer layer's name says its units are ("zip" for a layer
    of approximate ZIP areas), else the name's first word."""
    words: list[str] = re.findall(r"[a-z0-9]+", layer_name.lower())
    for word in words:
        if word in _KINDS:
            return _KINDS[word]
    for word in words:
        if word not in _NOT_A_KIND and word[0].isalpha():
            return word[:8]
    return "unit"


def check_prefix(prefix: str) -> str:
    if not PREFIX.match(prefix):
        raise InvalidInput(
            "prefix must be 1 to 12 lowercase letters or digits, starting with a letter (e.g. zip)", field="prefix"
        )
    return prefix


def clip_pieces(
    split: Sequence[SourceUnit],
    finer: Sequence[SourceUnit],
    *,
    attributes: Sequence[str],
    finer_attributes: Sequence[str],
    finer_layer_id: str,
    prefix: str,
    taken: set[str],
) -> dict[str, list[Piece]]:
    """Each split unit's pieces (an empty list when no finer unit covers more than a sliver of it).

    ``attributes`` are the derived layer's (the coarse layer's). A piece's value of an attribute the finer layer
    has is the finer unit's value times the share of the finer unit's area inside the split unit: an estimate that
    assumes the value is spread evenly over the finer unit (accounts are located by point, so the figures counted
    from accounts are exact). An attribute the finer layer lacks is the split unit's value shared by area, so the
    pieces add up to the split unit. Ids are ``<prefix>:<finer id>``, with ``@<split unit>`` added when the finer
    unit yields pieces of several split units or its plain id is already taken.
    """
    if not finer:
        return {s.unit_id: [] for s in split}
    crs = choose_equal_area_crs(shapely.total_bounds(np.array([s.geometry for s in split], dtype=object)))
    split_geoms = np.array([s.geometry for s in split], dtype=object)
    finer_geoms = np.array([f.geometry for f in finer], dtype=object)
    split_area = shapely.area(to_equal_area(split_geoms, target_crs=crs)[0])
    finer_area = shapely.area(to_equal_area(finer_geoms, target_crs=crs)[0])

    s_idx, f_idx = shapely.STRtree(finer_geoms).query(split_geoms, predicate="intersects")
    clipped = np.array(
        [_polygonal(g) for g in shapely.intersection(finer_geoms[f_idx], split_geoms[s_idx])], dtype=object
    )
    area = shapely.area(to_equal_area(clipped, target_crs=crs)[0]) if len(clipped) else np.zeros(0)
    keep = (area > 0) & ((area > SLIVER * finer_area[f_idx]) | (area > SLIVER * split_area[s_idx]))

    kept: dict[int, list[tuple[int, BaseGeometry, float]]] = {i: [] for i in range(len(split))}
    for s, f, geom, a in zip(s_idx[keep], f_idx[keep], clipped[keep], area[keep], strict=True):
        kept[int(s)].append((int(f), geom, float(a)))
    splits_of_finer: dict[int, int] = {}
    for kept_of_unit in kept.values():
        for f, _, _ in kept_of_unit:
            splits_of_finer[f] = splits_of_finer.get(f, 0) + 1

    out: dict[str, list[Piece]] = {}
    for i, unit in enumerate(split):
        if not kept[i]:
            out[unit.unit_id] = []
            continue
        geoms = _fill_gaps(unit.geometry, [g for _, g, _ in kept[i]])
        final_area = shapely.area(to_equal_area(np.array(geoms, dtype=object), target_crs=crs)[0])
        pieces = []
        for (f, _, clipped_area), geom, a in zip(kept[i], geoms, final_area, strict=True):
            source = finer[f]
            share = clipped_area / finer_area[f] if finer_area[f] > 0 else 0.0
            values = {
                name: float(source.attributes.get(name) or 0.0) * share
                if name in finer_attributes
                else float(unit.attributes.get(name) or 0.0) * float(a / final_area.sum())
                for name in attributes
            }
            piece_id = f"{prefix}:{source.unit_id}"
            if splits_of_finer[f] > 1 or piece_id in taken:
                piece_id = f"{piece_id}@{unit.unit_id}"
            if piece_id in taken or len(piece_id) > MAX_UNIT_ID:
                raise InvalidInput(
                    f"The piece id {piece_id[:120]} is already a unit of the layer or too long: choose another prefix.",
                    field="prefix",
                )
            taken.add(piece_id)
            pieces.append(
                Piece(
                    unit_id=piece_id,
                    split_unit=unit.unit_id,
                    geometry=geom,
                    attributes=values,
                    source={
                        "layer_id": finer_layer_id,
                        "unit_id": source.unit_id,
                        "split_unit": unit.unit_id,
                        "area_share": round(float(share), 9),
                    },
                )
            )
        out[unit.unit_id] = pieces
    return out


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """The polygons of an intersection (which may also hold the lines and points where borders touch)."""
    if geom is None or geom.is_empty:
        return shapely.Polygon()
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return shapely.Polygon()
    return shapely.union_all(parts)


def _fill_gaps(whole: BaseGeometry, pieces: list[BaseGeometry]) -> list[BaseGeometry]:
    """The pieces, each grown by the parts of ``whole`` no piece covers that touch it along the longest border
    (the nearest piece for a part that touches none), so that together they cover ``whole``."""
    rest = _polygonal(shapely.difference(whole, shapely.union_all(pieces)))
    if rest.is_empty:
        return pieces
    grown = list(pieces)
    for part in shapely.get_parts(rest):
        shared = shapely.length(shapely.intersection(shapely.boundary(part), np.array(pieces, dtype=object)))
        target = int(np.argmax(shared)) if shared.max() > 0 else int(np.argmin(shapely.distance(part, pieces)))
        grown[target] = _polygonal(shapely.union(grown[target], part))
    return grown
