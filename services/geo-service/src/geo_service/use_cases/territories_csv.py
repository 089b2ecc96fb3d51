"""An alignment's territory hierarchy as ``code,name,parent_code,colour`` CSV: export, and import into a draft.

The import creates the territories whose code is new and updates the name, colour and parent of those that exist,
parents before children whatever the row order, in one transaction: any problem in the file (a bad value, a
duplicate code, an unknown parent code, a cycle, a parent that owns units) refuses all of it with a 422 that names
each row and column. Rows are numbered as in a spreadsheet: the header is row 1. Territories the file does not list
are left as they are. Units are assigned afterwards with the ``unit_id,territory_code`` import.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from territory_shared.errors import InvalidInput

from geo_service.db.unit_of_work import UnitOfWork
from geo_service.domain.hierarchy import ancestors, in_cycle, parents_first
from geo_service.domain.territory import UNCHANGED, Territory, Unchanged
from geo_service.spatial_index import IndexCache
from geo_service.use_cases.alignments import load_alignment
from geo_service.use_cases.territory_shapes import refresh_shapes

COLUMNS = ("code", "name", "parent_code", "colour")
REQUIRED = ("code", "name")
# The same rules as the JSON API's (api/schemas.py).
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
MAX_CODE, MAX_NAME = 64, 200
MAX_PROBLEMS_LISTED = 100


@dataclass(frozen=True)
class TerritoryRow:
    row: int
    code: str
    name: str
    parent_code: str | None | Unchanged  # None: the top level; UNCHANGED: the file has no parent_code column
    colour: str | None | Unchanged  # None: no colour; UNCHANGED: the file has no colour column


def territories_csv(territories: Sequence[Territory]) -> str:
    """The hierarchy depth first (each parent, then its children), siblings by code."""
    by_id = {t.id: t for t in territories}
    children: dict[str | None, list[Territory]] = {}
    for t in sorted(territories, key=lambda t: t.code):
        parent = t.parent_id if t.parent_id in by_id else None
        children.setdefault(parent, []).append(t)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    stack = list(reversed(children.get(None, [])))
    while stack:
        t = stack.pop()
        parent_code = by_id[t.parent_id].code if t.parent_id in by_id else ""
        writer.writerow([t.code, t.name, parent_code, t.colour or ""])
        stack.extend(reversed(children.get(t.id, [])))
    return out.getvalue()


def read_rows(body: bytes) -> list[TerritoryRow]:
    """The rows of the file, or a 422 naming every row and column whose value is wrong (or a duplicate code)."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"The CSV is not UTF-8 text (byte {exc.start}).", field="body") from None
    records = list(csv.reader(io.StringIO(text)))
    if not records or not [c for c in records[0] if c.strip()]:
        raise InvalidInput(f"The CSV needs a header row: {','.join(COLUMNS)}.", field="body")
    header = [c.strip() for c in records[0]]
    problems = [
        _problem(1, c, c, f"unknown column; the columns are {', '.join(COLUMNS)}") for c in header if c not in COLUMNS
    ]
    problems += [
        _problem(1, c, c, "the column is named twice") for c in sorted({c for c in header if header.count(c) > 1})
    ]
    problems += [
        _problem(1, c, "", "the header has no such column; it is required") for c in REQUIRED if c not in header
    ]
    if problems:
        raise _refusal(problems)
    position = {c: header.index(c) for c in COLUMNS if c in header}
    rows: list[TerritoryRow] = []
    first_row: dict[str, int] = {}
    for number, record in enumerate(records[1:], start=2):
        if not any(v.strip() for v in record):
            continue  # a blank line
        if len(record) > len(header):
            problems.append(_problem(number, "", "", f"{len(record)} values for {len(header)} columns"))
            continue
        values = {c: (record[i].strip() if i < len(record) else "") for c, i in position.items()}
        code, name = values["code"], values["name"]
        if not code:
            problems.append(_problem(number, "code", code, "a code is required"))
        elif len(code) > MAX_CODE or not CODE.match(code):
            problems.append(_problem(number, "code", code, _CODE_RULE))
        elif code in first_row:
            problems.append(_problem(number, "code", code, f"the code is also on row {first_row[code]}"))
        else:
            first_row[code] = number
        if not name:
            problems.append(_problem(number, "name", name, "a name is required"))
        elif len(name) > MAX_NAME:
            problems.append(_problem(number, "name", name, f"longer than {MAX_NAME} characters"))
        parent_code: str | None | Unchanged = UNCHANGED
        if "parent_code" in values:
            parent_code = values["parent_code"] or None
            if parent_code is not None and (len(parent_code) > MAX_CODE or not CODE.match(parent_code)):
                problems.append(_problem(number, "parent_code", parent_code, _CODE_RULE))
        colour: str | None | Unchanged = UNCHANGED
        if "colour" in values:
            colour = values["colour"] or None
            if colour is not None and not COLOUR.match(colour):
                problems.append(_problem(number, "colour", colour, "a colour is #rrggbb, e.g. #1f77b4"))
        rows.append(TerritoryRow(number, code, name, parent_code, colour))
    if problems:
        raise _refusal(problems)
    return rows


def check_hierarchy(
    rows: Sequence[TerritoryRow], parents: dict[str, str | None], owning_units: set[str]
) -> tuple[dict[str, str | None], list[dict[str, Any]]]:
    """The hierarchy (code -> parent code) the rows make of the alignment's (``parents``), and its problems."""
    after = dict(parents)
    for r in rows:
        after.setdefault(r.code, None)
        if not isinstance(r.parent_code, Unchanged):
            after[r.code] = r.parent_code
    problems = []
    for r in rows:
        parent = r.parent_code
        if isinstance(parent, Unchanged) or parent is None:
            continue
        if parent == r.code:
            problems.append(_problem(r.row, "parent_code", parent, "a territory cannot be its own parent"))
        elif parent not in after:
            problems.append(
                _problem(r.row, "parent_code", parent, "no territory has this code, in the file or the alignment")
            )
        elif in_cycle(r.code, after):
            chain = " > ".join([r.code, *ancestors(r.code, after), r.code])
            problems.append(_problem(r.row, "parent_code", parent, f"the parents make a cycle: {chain}"))
        elif parent in owning_units:
            problems.append(
                _problem(
                    r.row,
                    "parent_code",
                    parent,
                    "the territory owns units: a territory with units cannot have children (units belong to leaves)",
                )
            )
    return after, problems


async def import_territories(
    uow: UnitOfWork,
    cache: IndexCache,
    tenant_id: str,
    alignment_id: str,
    body: bytes,
    expected_version: int | None,
) -> dict[str, int]:
    """Create and update a draft's territories from the CSV (see the module's docstring); all or nothing.

    Emits ``geo.territory.created.v1`` / ``geo.territory.renamed.v1`` for each territory created or changed.
    """
    async with uow:
        alignment = await load_alignment(uow, tenant_id, alignment_id, expected_version)
        alignment.require_draft("edited")
        rows = read_rows(body)
        existing = {t.code: t for t in await uow.territories.in_alignment(alignment.id)}
        code_of = {t.id: t.code for t in existing.values()}
        parents = {t.code: code_of.get(t.parent_id) if t.parent_id else None for t in existing.values()}
        owning_units = {
            code_of[t] for t, _ in (await uow.alignments.memberships(alignment.id)).values() if t in code_of
        }
        after, problems = check_hierarchy(rows, parents, owning_units)
        if problems:
            raise _refusal(problems)
        ids = {code: t.id for code, t in existing.items()}
        by_code = {r.code: r for r in rows}
        created = updated = 0
        touched: set[str | None] = set()
        for code in parents_first(by_code, after):
            row = by_code[code]
            parent_id: str | None | Unchanged = row.parent_code
            if isinstance(row.parent_code, str):
                parent_id = ids[row.parent_code]  # created or found before, being higher in the hierarchy
            if code in existing:
                territory = existing[code]
                old_parent = territory.parent_id
                event = territory.rename(name=row.name, colour=row.colour, parent_id=parent_id)
                if event is None:
                    continue
                await uow.territories.save(territory)
                if territory.parent_id != old_parent:
                    touched |= {old_parent, territory.parent_id}
                updated += 1
            else:
                territory, event = Territory.create(
                    tenant_id,
                    code,
                    row.name,
                    alignment_id=alignment.id,
                    parent_id=None if isinstance(parent_id, Unchanged) else parent_id,
                    colour=None if isinstance(row.colour, Unchanged) else row.colour,
                )
                await uow.territories.add(territory)
                ids[code] = territory.id
                created += 1
            uow.emit(tenant_id, territory.id, event)
        if created or updated:
            alignment.edited()
            await uow.alignments.save(alignment)
            await uow.flush()  # the version check: a concurrent edit fails here with 412
            if touched - {None}:
                layer = await cache.layer(uow, alignment.layer_id)
                await refresh_shapes(uow, alignment.id, touched, layer)
            await uow.commit()
        return {"created": created, "updated": updated, "version": alignment.version}


_CODE_RULE = f"a code is 1 to {MAX_CODE} letters, digits, '.', '_' or '-', starting with a letter or digit"


def _problem(row: int, column: str, value: str, reason: str) -> dict[str, Any]:
    return {"row": row, "column": column, "field": column or "body", "value": value, "reason": reason}


def _refusal(problems: list[dict[str, Any]]) -> InvalidInput:
    first = problems[0]
    where = f"row {first['row']}" + (f", {first['column']}" if first["column"] else "")
    return InvalidInput(
        f"{len(problems)} problem(s) in the CSV, nothing changed. First: {where}: {first['reason']}.",
        errors=problems[:MAX_PROBLEMS_LISTED],
        problem_count=len(problems),
    )
