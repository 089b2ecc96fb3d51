"""Split units of a draft into the finer units of another layer: the draft moves onto a derived layer.

The derived layer is a layer like any other (units, attributes, adjacency, ``geo.layer.imported.v1``): every unit of
the draft's layer but the split ones, plus the pieces of the finer layer clipped to each split unit. It is stored
through the import's own code path, so its adjacency across the two granularities is computed exactly as an
import's. The draft keeps every membership; each piece goes to the territory that held the unit it splits.
Locating points, the optimizer and the metrics then work on it with no special case.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import shapely
from territory_shared.errors import Conflict, InvalidInput
from territory_shared.events.geo import AlignmentEditedV1, LayerImportedV1, UnitMove

from geo_service.db.records import LayerRecord, UnitRecord
from geo_service.db.unit_of_work import UnitOfWork
from geo_service.domain.alignment import Alignment
from geo_service.domain.features import ValidationOptions, validate_features
from geo_service.domain.split import Piece, SourceUnit, check_prefix, clip_pieces, default_prefix
from geo_service.spatial_index import IndexCache
from geo_service.use_cases.alignments import load_alignment
from geo_service.use_cases.import_layer import layer_frame, prepare_units
from geo_service.use_cases.territory_shapes import refresh_shapes

ALL = 10**9
# Pieces are intersections of units already accepted: their vertices are the two units' at most.
PIECE_OPTIONS = ValidationOptions(kind="polygon", max_vertices=10_000_000, repair=True)


@dataclass(frozen=True)
class SplitResult:
    alignment: Alignment
    layer_id: str
    layer_name: str
    pieces: dict[str, list[str]]  # split unit -> its pieces' ids
    unit_count: int
    adjacency_pairs: int
    island_links: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class _Read:
    alignment: Alignment
    coarse: LayerRecord
    finer: LayerRecord
    units: list[UnitRecord]
    finer_units: list[UnitRecord]
    territory_of: dict[str, str | None]
    link_islands: bool


async def split_units(
    uow: UnitOfWork,
    cache: IndexCache,
    tenant_id: str,
    alignment_id: str,
    unit_ids: Sequence[str],
    into_layer: str,
    prefix: str | None,
    expected_version: int | None,
) -> SplitResult:
    """Replace units of a draft by the finer units of ``into_layer`` clipped to them, on a new derived layer.

    Refused, changing nothing: a draft that is not one (409), an unknown or locked unit (422 / 409, ``unit_ids``),
    an unknown ``into_layer`` or the draft's own layer (422), a unit no finer unit covers (422), a stale version
    (412). The heavy geometry runs outside any transaction; the write checks that the draft did not change meanwhile.
    """
    split = list(dict.fromkeys(unit_ids))
    if not split:
        raise InvalidInput("give at least one unit to split", field="unit_ids")
    if prefix is not None:
        check_prefix(prefix)
    read = await _read(uow, tenant_id, alignment_id, split, into_layer, expected_version)
    prefix = prefix or default_prefix(read.finer.name)
    rows, edges, links, pieces, name, lineage = await asyncio.to_thread(_derive, read, split, prefix)

    async with uow:
        # The version read above: a change meanwhile (a move, a lock, another split) is a 412, never lost.
        alignment = await load_alignment(uow, tenant_id, alignment_id, read.alignment.version)
        layer_id = str(uuid.uuid4())
        bounds = shapely.total_bounds(shapely.from_wkb([r["wkb"] for r in rows]))
        record = LayerRecord(
            id=layer_id,
            tenant_id=tenant_id,
            name=name,
            kind="polygon",
            attributes=list(read.coarse.attributes),
            unit_count=len(rows),
            bbox=[float(b) for b in bounds],
            frame=layer_frame(rows),
            created_at=datetime.now(UTC),
            lineage=lineage,
        )
        for row in rows:
            row["layer_id"] = layer_id
        for row in edges:
            row["layer_id"] = layer_id
        await uow.layers.add(record, rows, edges)
        uow.emit(
            tenant_id,
            layer_id,
            LayerImportedV1(
                layer_id=layer_id,
                name=name,
                kind="polygon",
                unit_count=len(rows),
                attributes=list(read.coarse.attributes),
            ),
        )
        alignment.moved_to_layer(layer_id)
        await uow.alignments.save(alignment)
        await uow.flush()  # the version check: a concurrent edit fails here with 412
        added = [(p.unit_id, read.territory_of[u]) for u in split for p in pieces[u]]
        await uow.alignments.replace_units(alignment.id, split, added)
        try:
            layer = await cache.layer(uow, layer_id)
            await refresh_shapes(uow, alignment.id, {read.territory_of[u] for u in split}, layer)
            moves = [UnitMove(unit_id=u, from_territory_id=read.territory_of[u], to_territory_id=None) for u in split]
            moves += [UnitMove(unit_id=p, from_territory_id=None, to_territory_id=t) for p, t in added]
            uow.emit(
                tenant_id,
                alignment.id,
                AlignmentEditedV1(
                    alignment_id=alignment.id,
                    version=alignment.version,
                    moves=[m for m in moves if m.from_territory_id != m.to_territory_id],
                    layer_id=layer_id,
                ),
            )
            await uow.commit()
        except BaseException:
            cache.forget_layer(layer_id)
            raise
    return SplitResult(
        alignment=alignment,
        layer_id=layer_id,
        layer_name=name,
        pieces={u: [p.unit_id for p in pieces[u]] for u in split},
        unit_count=len(rows),
        adjacency_pairs=len(edges),
        island_links=links,
    )


async def _read(
    uow: UnitOfWork,
    tenant_id: str,
    alignment_id: str,
    split: list[str],
    into_layer: str,
    expected_version: int | None,
) -> _Read:
    async with uow:
        alignment = await load_alignment(uow, tenant_id, alignment_id, expected_version)
        alignment.require_draft("split")
        coarse = await uow.layers.get(tenant_id, alignment.layer_id)
        assert coarse is not None  # an alignment's layer cannot be deleted
        if into_layer == alignment.layer_id:
            raise InvalidInput("into_layer is the draft's own layer: name a layer of finer units", field="into_layer")
        finer = await uow.layers.get(tenant_id, into_layer)
        if finer is None:
            raise InvalidInput(f"into_layer: layer {into_layer} does not exist", field="into_layer")
        if finer.kind != "polygon" or coarse.kind != "polygon":
            field_ = "into_layer" if finer.kind != "polygon" else "unit_ids"
            raise InvalidInput("only polygon units can be split into polygon units", field=field_)
        current = await uow.alignments.memberships(alignment.id)
        unknown = [u for u in split if u not in current]
        if unknown:
            raise InvalidInput(
                f"{len(unknown)} unit(s) are not in this draft's layer: {', '.join(unknown[:10])}",
                field="unit_ids",
                unit_ids=unknown[:100],
            )
        locked = [u for u in split if current[u][1]]
        if locked:
            raise Conflict(
                f"{len(locked)} unit(s) are locked; unlock them before splitting them: {', '.join(locked[:10])}",
                field="unit_ids",
                unit_ids=locked[:100],
            )
        units = await uow.layers.units_page(coarse.id, ALL, 0, None)
        wanted = set(split)
        box = shapely.total_bounds(shapely.from_wkb([u.wkb for u in units if u.unit_id in wanted]))
        finer_units = await uow.layers.units_page(finer.id, ALL, 0, tuple(float(b) for b in box))  # type: ignore[arg-type]
        # Pieces of a unit in several parts (a county with islands) are islands of their own: link them as an
        # import does by default, unless the coarse layer was imported without links (a unit with no neighbour).
        touched = {u for e in await uow.layers.adjacency(coarse.id) for u in (e.unit_a, e.unit_b)}
        link_islands = len(units) < 2 or all(u.unit_id in touched for u in units)
    return _Read(
        alignment=alignment,
        coarse=coarse,
        finer=finer,
        units=units,
        finer_units=finer_units,
        territory_of={u: current[u][0] for u in split},
        link_islands=link_islands,
    )


def _derive(
    read: _Read, split: list[str], prefix: str
) -> tuple[
    list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], dict[str, list[Piece]], str, dict[str, Any]
]:
    """The derived layer's unit and adjacency rows (through the import's ``prepare_units``), its pieces, name and
    lineage."""
    wanted = set(split)
    kept = [u for u in read.units if u.unit_id not in wanted]
    by_id = {u.unit_id: u for u in read.units}
    pieces = clip_pieces(
        [SourceUnit(u, shapely.from_wkb(by_id[u].wkb), by_id[u].attributes) for u in split],
        [SourceUnit(f.unit_id, shapely.from_wkb(f.wkb), f.attributes) for f in read.finer_units],
        attributes=read.coarse.attributes,
        finer_attributes=read.finer.attributes,
        finer_layer_id=read.finer.id,
        prefix=prefix,
        taken={u.unit_id for u in kept},
    )
    uncovered = [u for u in split if not pieces[u]]
    if uncovered:
        raise InvalidInput(
            f"no unit of layer {read.finer.name!r} covers more than a sliver of {', '.join(uncovered[:10])}",
            field="unit_ids",
            unit_ids=uncovered[:100],
        )
    new = [p for u in split for p in pieces[u]]
    ids = [u.unit_id for u in kept] + [p.unit_id for p in new]
    wkbs = [u.wkb for u in kept] + list(shapely.to_wkb(np.array([p.geometry for p in new], dtype=object)))
    attributes = {
        a: [float(u.attributes.get(a) or 0.0) for u in kept] + [p.attributes[a] for p in new]
        for a in read.coarse.attributes
    }
    layer = validate_features(ids, wkbs, attributes, PIECE_OPTIONS)
    if layer.problems:
        problem = layer.problems[0]
        raise InvalidInput(
            f"{len(layer.problems)} piece(s) are not valid units, e.g. {problem.feature_id}: {problem.reason}",
            field="unit_ids",
        )
    rows, edges, links = prepare_units(layer, read.link_islands, "rook")
    sources = {u.unit_id: u.source for u in kept} | {p.unit_id: p.source for p in new}
    finer_names = {f.unit_id: f.name for f in read.finer_units}
    # A kept unit keeps its name; a piece is named after the finer unit it was clipped from.
    names = {u.unit_id: u.name for u in kept} | {p.unit_id: finer_names.get(p.source["unit_id"]) for p in new}
    for row in rows:
        row["source"] = sources.get(row["unit_id"])
        row["name"] = names.get(row["unit_id"])
    name, lineage = _lineage(read, split, prefix)
    return rows, edges, links, pieces, name, lineage


def _lineage(read: _Read, split: list[str], prefix: str) -> tuple[str, dict[str, Any]]:
    """The derived layer's name and lineage: the layers it comes from and every split since the base layer."""
    before = read.coarse.lineage or {}
    base_name = before.get("base_name", read.coarse.name)
    splits = [
        *before.get("splits", []),
        {"unit_ids": split, "into_layer": read.finer.id, "into_name": read.finer.name, "prefix": prefix},
    ]
    finer_names = list(dict.fromkeys(s["into_name"] for s in splits))
    all_split = [u for s in splits for u in s["unit_ids"]]
    name = f"{base_name} + {' + '.join(finer_names)} (split {', '.join(all_split)})"
    if len(name) > 200:
        name = name[:197] + "..."
    lineage = {
        "parents": [read.coarse.id, read.finer.id],
        "split_units": split,
        "into_layer": read.finer.id,
        "prefix": prefix,
        "base_layer_id": before.get("base_layer_id", read.coarse.id),
        "base_name": base_name,
        "splits": splits,
    }
    return name, lineage
