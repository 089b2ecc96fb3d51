"""ETag / If-Match on editable resources: the ETag is the resource's version, quoted."""

from __future__ import annotations

from territory_shared.api.problems import BadRequest


def etag_of(version: int) -> str:
    return f'"{version}"'


def parse_if_match(value: str | None) -> int | None:
    """The version the client read, or None when it sent no If-Match (an unconditional write)."""
    if value is None or value.strip() == "*":
        return None
    raw = value.strip().removeprefix("W/").strip('"')
    # ASCII digits only ('²'.isdigit() is true, int('²') fails) and within a 64-bit version column.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise BadRequest(
            f"If-Match must be an ETag this API returned, like '\"3\"'; got {value!r}.",
            errors=[{"field": "if-match", "location": "header", "reason": "not a version ETag"}],
        )
    return int(raw)
