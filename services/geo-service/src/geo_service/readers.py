"""Read a layer file in chunks: GeoJSON, GeoPackage and Shapefile through pyogrio (GDAL), CSV with WKT
or lon/lat columns through the csv module. A chunk holds WKB, ids and raw attribute values, so a
large file is never held in memory twice.
"""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyogrio
import pyogrio.raw
import shapely
from territory_shared.errors import BadRequest

FORMATS = {
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".zip": "shapefile",
    ".shp": "shapefile",
    ".csv": "csv",
}


@dataclass(frozen=True)
class CsvGeometry:
    wkt_column: str | None = None
    lon_column: str | None = None
    lat_column: str | None = None


@dataclass
class Chunk:
    ids: list[object]
    wkbs: list[bytes | None]
    attributes: dict[str, list[object]]


def detect_format(filename: str, declared: str | None) -> str:
    if declared:
        if declared not in set(FORMATS.values()):
            raise BadRequest(f"format must be one of {sorted(set(FORMATS.values()))}", field="format")
        return declared
    suffix = Path(filename).suffix.lower()
    if suffix not in FORMATS:
        raise BadRequest(
            f"cannot tell the format of {filename!r}: name it .geojson, .gpkg, .zip (Shapefile) or .csv, "
            "or pass format",
            field="file",
        )
    return FORMATS[suffix]


def gdal_path(path: Path, fmt: str) -> str:
    if fmt == "shapefile" and path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as z:
            shp = [n for n in z.namelist() if n.lower().endswith(".shp")]
        if len(shp) != 1:
            raise BadRequest("a zipped Shapefile must hold exactly one .shp", field="file")
        return f"/vsizip/{path}/{shp[0]}"
    return str(path)


def count_features(path: Path, fmt: str) -> int:
    if fmt == "csv":
        with path.open("rb") as f:
            return max(sum(1 for _ in f) - 1, 0)
    try:
        return int(pyogrio.read_info(gdal_path(path, fmt))["features"])
    except Exception as exc:  # noqa: BLE001 - GDAL's own words are the clearest reason
        reason = str(exc).replace(str(path), "the file")  # not the server's temporary path
        raise BadRequest(f"the file cannot be read as {fmt}: {reason}", field="file") from exc


def check_columns(
    path: Path,
    fmt: str,
    id_column: str,
    attributes: list[str],
    csv_geometry: CsvGeometry,
    name_column: str | None = None,
) -> None:
    """Refuse, before any work starts, a file that lacks a column the caller named."""
    if fmt == "csv":
        with path.open("r", encoding="utf-8-sig", newline="") as f:
            header = next(csv.reader(f), [])
        wanted = (
            [csv_geometry.wkt_column] if csv_geometry.wkt_column else [csv_geometry.lon_column, csv_geometry.lat_column]
        )
        names = {"id_column": [id_column], "attributes": attributes, "geometry": [c for c in wanted if c]}
    else:
        count_features(path, fmt)  # a file GDAL cannot open is refused here, with GDAL's reason
        header = [str(f) for f in pyogrio.read_info(gdal_path(path, fmt))["fields"]]
        names = {"id_column": [id_column], "attributes": attributes}
    if name_column:
        names["name_column"] = [name_column]
    errors = [
        {"field": field, "reason": f"no column {c!r} in the file"}
        for field, cols in names.items()
        for c in cols
        if c not in header
    ]
    if errors:
        raise BadRequest(f"The file lacks column(s) you named; it has {header}.", errors=errors)


def read_chunks(
    path: Path,
    fmt: str,
    id_column: str,
    attributes: list[str],
    csv_geometry: CsvGeometry,
    chunk_size: int = 10_000,
) -> Iterator[Chunk]:
    if fmt == "csv":
        yield from _read_csv(path, id_column, attributes, csv_geometry, chunk_size)
        return
    source = gdal_path(path, fmt)
    info = pyogrio.read_info(source)
    fields = [str(f) for f in info["fields"]]
    missing = [c for c in [id_column, *attributes] if c not in fields]
    if missing:
        raise BadRequest(
            f"column(s) {missing} not in the file; it has {fields}",
            errors=[
                {"field": "id_column" if c == id_column else "attributes", "reason": f"no column {c!r}"}
                for c in missing
            ],
        )
    total = int(info["features"])
    for skip in range(0, max(total, 0), chunk_size):
        meta, _, geometry, field_data = pyogrio.raw.read(
            source, columns=[id_column, *attributes], skip_features=skip, max_features=chunk_size
        )
        # GDAL returns the columns in the file's order, not the order asked for.
        by_name = dict(zip([str(f) for f in meta["fields"]], field_data, strict=True))
        yield Chunk(
            ids=list(by_name[id_column]),
            wkbs=list(geometry),
            attributes={a: list(by_name[a]) for a in attributes},
        )


def _read_csv(
    path: Path, id_column: str, attributes: list[str], geometry: CsvGeometry, chunk_size: int
) -> Iterator[Chunk]:
    with path.open("r", encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        geometry_columns = (
            [geometry.wkt_column]
            if geometry.wkt_column
            else [c for c in (geometry.lon_column, geometry.lat_column) if c]
        )
        if not geometry_columns or (not geometry.wkt_column and len(geometry_columns) != 2):
            raise BadRequest("a CSV layer needs wkt_column, or lon_column and lat_column", field="wkt_column")
        missing = [c for c in [id_column, *attributes, *geometry_columns] if c not in header]
        if missing:
            raise BadRequest(f"column(s) {missing} not in the CSV header {header}", field="file")
        chunk = Chunk([], [], {a: [] for a in attributes})
        for row in reader:
            chunk.ids.append(row[id_column])
            chunk.wkbs.append(_csv_wkb(row, geometry))
            for a in attributes:
                chunk.attributes[a].append(row[a])
            if len(chunk.ids) >= chunk_size:
                yield chunk
                chunk = Chunk([], [], {a: [] for a in attributes})
        if chunk.ids:
            yield chunk


def _csv_wkb(row: dict[str, str], geometry: CsvGeometry) -> bytes | None:
    if geometry.wkt_column:
        text = (row.get(geometry.wkt_column) or "").strip()
        if not text:
            return None
        try:
            return shapely.to_wkb(shapely.from_wkt(text))
        except shapely.errors.GEOSException:
            # Unparseable WKT travels on as an empty collection: validation names the feature.
            return shapely.to_wkb(shapely.from_wkt("GEOMETRYCOLLECTION EMPTY"))
    try:
        lon = float(row[geometry.lon_column or ""])
        lat = float(row[geometry.lat_column or ""])
    except (TypeError, ValueError):
        return None
    return shapely.to_wkb(shapely.Point(lon, lat))
