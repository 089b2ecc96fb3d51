"""Accounts: as CRMs send them (one row -> a validated ``AccountInput`` or the reasons it was refused) and as
stored (``Account``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

SIZES = ("S", "M", "L", "XL")
NUMERIC_FIELDS = ("potential", "revenue", "visits_per_year", "workload_hours")
TEXT_FIELDS = ("name", "industry", "size", "zip")
KNOWN_FIELDS = {"external_id", "lat", "lon", "custom", *NUMERIC_FIELDS, *TEXT_FIELDS}
CUSTOM_PREFIX = "custom."
MAX_CUSTOM_FIELDS = 50


@dataclass(frozen=True)
class ZipPoint:
    lat: float
    lon: float


ZipResolver = Callable[[str], ZipPoint | None]


@dataclass(kw_only=True)
class AccountInput:
    """An account as a CRM tells it, validated: its id in the CRM, where it is, and the facts rules test.

    With ``Account`` below, the one list of an account's fields: the upsert compares and writes ``FACTS``, its
    event data takes the contract's fields from the account, the API's read schema is built from ``Account``,
    and the record's columns are checked against it.
    """

    external_id: str
    name: str | None
    lat: float | None
    lon: float | None
    zip: str | None
    location_precision: str | None
    potential: float | None
    revenue: float | None
    industry: str | None
    size: str | None
    visits_per_year: float | None
    workload_hours: float | None
    custom: dict[str, float]

    def facts(self) -> dict[str, Any]:
        """The stored columns besides the ids, to compare with what is stored and to write."""
        return {name: getattr(self, name) for name in FACTS}


@dataclass(kw_only=True)
class Account(AccountInput):
    """An account as stored: what reading it back gives, and what the assignment engine places (a repository's
    rows of the accounts table carry the same fields)."""

    id: str
    version: int


FACTS: tuple[str, ...] = tuple(f.name for f in fields(AccountInput) if f.name != "external_id")
ACCOUNT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Account))


@dataclass(frozen=True)
class AccountFilter:
    """Which live accounts a bulk delete by filter takes: every condition given must hold (None: any)."""

    industry: str | None = None  # compared without case, as rules compare it
    size: str | None = None
    zip_prefix: str | None = None
    has_location: bool | None = None  # False: the accounts with neither a point nor a ZIP to place them

    def is_empty(self) -> bool:
        return all(v is None for v in (self.industry, self.size, self.zip_prefix, self.has_location))


@dataclass(frozen=True)
class RowError:
    line: int
    external_id: str | None
    field: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "external_id": self.external_id, "field": self.field, "reason": self.reason}


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _number(value: object) -> float:
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    number = float(value)  # type: ignore[arg-type]
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


def validate_account(line: int, raw: object, resolve_zip: ZipResolver) -> tuple[AccountInput | None, list[RowError]]:
    """Check one row; an account is returned only when the row has no error at all."""
    if isinstance(raw, Malformed):
        return None, [RowError(line, None, "row", raw.reason)]
    if not isinstance(raw, Mapping):
        return None, [RowError(line, None, "row", "a row must be an object with the account's fields")]
    ext = raw.get("external_id")
    ext_text = None if _blank(ext) else str(ext).strip()
    errors: list[RowError] = []

    def fail(name: str, reason: str) -> None:
        errors.append(RowError(line, ext_text, name, reason))

    if ext_text is None:
        fail("external_id", "required")
    elif len(ext_text) > 100:
        fail("external_id", "longer than 100 characters")
    custom: dict[str, float] = {}
    for key, value in raw.items():
        if key in KNOWN_FIELDS:
            continue
        if isinstance(key, str) and key.startswith(CUSTOM_PREFIX) and len(key) > len(CUSTOM_PREFIX):
            if not _blank(value):
                custom[key[len(CUSTOM_PREFIX) :]] = value
        else:
            fail(str(key), "unknown field (custom numeric fields are named custom.<name>)")
    nested = raw.get("custom")
    if isinstance(nested, Mapping):
        custom.update({str(k): v for k, v in nested.items() if not _blank(v)})
    elif not _blank(nested):
        fail("custom", "must be an object of name -> number")
    checked_custom: dict[str, float] = {}
    for key, value in custom.items():
        try:
            checked_custom[key] = _number(value)
        except (TypeError, ValueError):
            fail(f"custom.{key}", f"not a number: {value!r}")
    if len(checked_custom) > MAX_CUSTOM_FIELDS:
        fail("custom", f"at most {MAX_CUSTOM_FIELDS} custom fields")

    numbers: dict[str, float | None] = {}
    for name in NUMERIC_FIELDS:
        value = raw.get(name)
        if _blank(value):
            numbers[name] = None
            continue
        try:
            numbers[name] = _number(value)
        except (TypeError, ValueError):
            fail(name, f"not a number: {value!r}")
            continue
        if numbers[name] < 0:  # type: ignore[operator]
            fail(name, "must not be negative")
    texts: dict[str, str | None] = {}
    for name, limit in (("name", 200), ("industry", 100)):
        value = raw.get(name)
        texts[name] = None if _blank(value) else str(value).strip()
        if texts[name] is not None and len(texts[name]) > limit:  # type: ignore[arg-type]
            fail(name, f"longer than {limit} characters")
    size = raw.get("size")
    texts["size"] = None if _blank(size) else str(size).strip().upper()
    if texts["size"] is not None and texts["size"] not in SIZES:
        fail("size", f"must be one of {', '.join(SIZES)}; got {size!r}")

    lat, lon, precision, zip_code = _location(raw, resolve_zip, fail)
    if errors:
        return None, errors
    return (
        AccountInput(
            external_id=ext_text,  # type: ignore[arg-type]
            lat=lat,
            lon=lon,
            location_precision=precision,
            zip=zip_code,
            name=texts["name"],
            industry=texts["industry"],
            size=texts["size"],
            custom=checked_custom,
            **numbers,
        ),
        [],
    )


def _location(
    raw: Mapping[str, Any], resolve_zip: ZipResolver, fail: Callable[[str, str], None]
) -> tuple[float | None, float | None, str | None, str | None]:
    lat_raw, lon_raw, zip_raw = raw.get("lat"), raw.get("lon"), raw.get("zip")
    zip_code = None
    if not _blank(zip_raw):
        text = str(zip_raw).strip().split("-")[0].strip()
        if not text.isdigit() or len(text) > 5:
            fail("zip", f"not a US ZIP code: {zip_raw!r}")
        else:
            zip_code = text.zfill(5)
    if _blank(lat_raw) and _blank(lon_raw):
        if zip_code is None:
            if _blank(zip_raw):
                fail("location", "no location: give lat and lon, or a US ZIP code")
            return None, None, None, None
        point = resolve_zip(zip_code)
        if point is None:
            fail("zip", f"unknown ZIP code {zip_code}")
            return None, None, None, zip_code
        return point.lat, point.lon, "zip-centroid", zip_code
    if _blank(lat_raw) or _blank(lon_raw):
        fail("lat" if _blank(lat_raw) else "lon", "lat and lon go together: give both or neither")
        return None, None, None, zip_code
    try:
        lat, lon = _number(lat_raw), _number(lon_raw)
    except (TypeError, ValueError):
        fail("lat/lon", f"not numbers: {lat_raw!r}, {lon_raw!r}")
        return None, None, None, zip_code
    if not -90 <= lat <= 90:
        fail("lat", f"out of range (-90..90): {lat}")
    if not -180 <= lon <= 180:
        fail("lon", f"out of range (-180..180): {lon}")
    return lat, lon, "exact", zip_code


@dataclass(frozen=True)
class Malformed:
    """A row that could not even be read (bad JSON on an NDJSON line, a CSV line with too many values)."""

    reason: str
