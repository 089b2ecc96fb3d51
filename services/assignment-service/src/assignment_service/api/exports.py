"""A sales force's assignments as a file: CSV streamed page by page, XLSX written to a temporary file first.

Both read the assignments in keyset pages of ``PAGE`` rows, each in a short transaction of its own, so a download
of 50,000 rows holds one page in memory and no connection while the client reads. The XLSX is a zip that cannot
be sent before it is complete: openpyxl's write-only workbook spools its rows to disk, and the finished file is
sent from there.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import tempfile
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime
from typing import IO, Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from territory_shared.api.problems import NotFound
from territory_shared.api.tenancy import RepScope, TenantId

from assignment_service.api.account_filters import AccountFilters, Filters, resolve
from assignment_service.api.deps import Uow
from assignment_service.api.rep_scope import OwnRep
from assignment_service.db.account_search import AccountSearch
from assignment_service.db.rows import AnyRow
from assignment_service.db.unit_of_work import UnitOfWork

router = APIRouter(tags=["assignments"])

COLUMNS = (
    "account_external_id",
    "account_name",
    "territory_code",
    "rep_external_id",
    "rep_name",
    "cause",
    "by_geography",
    "potential",
    "assigned_since",
)
PAGE = 5_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_DESCRIPTION = (
    "One row per account of the sales force: "
    + ", ".join(f"`{c}`" for c in COLUMNS)
    + " (when the account got its current territory and rep, UTC), in account id order. The filters of "
    "`GET /v1/accounts` narrow it (`territory_code`, `rep`, `unassigned` in this sales force). A rep's credentials "
    "export the rows naming them only."
)


async def _pages(
    uow: UnitOfWork, tenant_id: str, sales_force: str, where: AccountSearch
) -> AsyncIterator[Sequence[AnyRow]]:
    after = None
    while True:
        async with uow:
            rows = await uow.accounts.assignments_page(tenant_id, sales_force, where, after, PAGE)
        if rows:
            yield rows
        if len(rows) < PAGE:
            return
        after = rows[-1].account_id


async def _search(
    uow: UnitOfWork,
    tenant_id: str,
    sales_force: str,
    filters: AccountFilters,
    own_rep_id: str | None,
    own_rep_external_id: str | None,
) -> AccountSearch:
    async with uow:
        if await uow.assignments.sales_force(tenant_id, sales_force) is None:
            raise NotFound(f"Sales force {sales_force!r} does not exist.", field="sales_force")
        return await resolve(uow, tenant_id, filters, sales_force, own_rep_id, own_rep_external_id)


def _utc(value: datetime | None) -> datetime | None:
    # SQLite hands back the stored UTC time without its zone.
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _filename(sales_force: str, suffix: str) -> str:
    return f'attachment; filename="assignments-{re.sub(r"[^A-Za-z0-9._-]", "_", sales_force)}.{suffix}"'


def _csv_values(r: Any) -> list[Any]:
    since = _utc(r.assigned_since)
    return [
        r.account_external_id,
        r.account_name,
        r.territory_code,
        r.rep_external_id,
        r.rep_name,
        r.cause,
        "true" if r.by_geography else "false",
        r.potential,
        since.isoformat() if since else None,
    ]


@router.get(
    "/v1/sales-forces/{sales_force}/assignments.csv",
    summary="A sales force's assignments as CSV, streamed",
    description=_DESCRIPTION,
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
async def assignments_csv(
    sales_force: str, tenant: TenantId, uow: Uow, rep: OwnRep, rep_external_id: RepScope, filters: Filters
) -> StreamingResponse:
    where = await _search(uow, tenant, sales_force, filters, rep, rep_external_id)

    async def lines() -> AsyncIterator[str]:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        yield out.getvalue()
        async for rows in _pages(uow, tenant, sales_force, where):
            out.seek(0)
            out.truncate()
            writer.writerows(_csv_values(r) for r in rows)
            yield out.getvalue()

    return StreamingResponse(
        lines(), media_type="text/csv; charset=utf-8", headers={"Content-Disposition": _filename(sales_force, "csv")}
    )


def _xlsx_append(sheet: Any, rows: Sequence[AnyRow]) -> None:
    def text(value: str | None) -> Any:
        if value is None:
            return None
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if not value.startswith("="):
            return value
        cell = WriteOnlyCell(sheet, value)
        cell.data_type = "s"  # a name such as "=HYPERLINK(...)" stays text, never a formula
        return cell

    for r in rows:
        since = _utc(r.assigned_since)
        sheet.append(
            [
                text(r.account_external_id),
                text(r.account_name),
                text(r.territory_code),
                text(r.rep_external_id),
                text(r.rep_name),
                text(r.cause),
                bool(r.by_geography),
                r.potential,
                since.replace(tzinfo=None) if since else None,  # Excel has no time zones: UTC, as the header says
            ]
        )


async def _xlsx_file(pages: AsyncIterator[Sequence[AnyRow]]) -> IO[bytes]:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("assignments")
    sheet.append([*COLUMNS[:-1], "assigned_since (UTC)"])
    async for rows in pages:
        await asyncio.to_thread(_xlsx_append, sheet, rows)
    out = tempfile.TemporaryFile()
    try:
        await asyncio.to_thread(book.save, out)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


def _chunks(file: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := file.read(1 << 16):
            yield chunk
    finally:
        file.close()


@router.get(
    "/v1/sales-forces/{sales_force}/assignments.xlsx",
    summary="A sales force's assignments as an Excel workbook",
    description=_DESCRIPTION,
    response_class=StreamingResponse,
    responses={200: {"content": {XLSX: {}}}},
)
async def assignments_xlsx(
    sales_force: str, tenant: TenantId, uow: Uow, rep: OwnRep, rep_external_id: RepScope, filters: Filters
) -> StreamingResponse:
    where = await _search(uow, tenant, sales_force, filters, rep, rep_external_id)
    file = await _xlsx_file(_pages(uow, tenant, sales_force, where))
    size = file.seek(0, io.SEEK_END)
    file.seek(0)
    headers = {"Content-Disposition": _filename(sales_force, "xlsx"), "Content-Length": str(size)}
    return StreamingResponse(_chunks(file), media_type=XLSX, headers=headers)
