"""``POST /v1/accounts/bulk-delete``: delete many accounts at once, by external ids (JSON or CSV) or by a filter."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from territory_shared.api.limits import UPLOAD_BODY
from territory_shared.api.tenancy import TenantId

from assignment_service.api.deps import Uow
from assignment_service.domain.accounts import AccountFilter
from assignment_service.use_cases.delete_accounts import DeleteReport, delete_accounts
from assignment_service.use_cases.idempotency import Idempotency

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])

MAX_IDS = 1_000_000
ExternalId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class AccountWhere(BaseModel):
    model_config = ConfigDict(extra="forbid")

    industry: str | None = Field(default=None, min_length=1, max_length=100, description="Equal, ignoring case")
    size: Literal["S", "M", "L", "XL"] | None = None
    zip_prefix: str | None = Field(default=None, pattern=r"^[0-9]{1,5}$", description="The ZIP starts with it")
    has_location: bool | None = Field(
        default=None, description="false: the accounts with no location (neither lat/lon nor a known ZIP)"
    )


class BulkDeleteIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"external_ids": ["ACC-1", "ACC-2"]}, {"where": {"has_location": False}}]},
    )

    external_ids: list[ExternalId] | None = Field(default=None, min_length=1, max_length=MAX_IDS)
    where: AccountWhere | None = None


class BulkDeleteReport(BaseModel):
    received: int = Field(description="Distinct ids in the request, or the accounts the filter matched")
    deleted: int
    not_found: int = Field(description="Ids that name no live account (unknown or already deleted)")
    not_found_ids: list[str] = Field(description="The first 1,000 of them")
    not_found_truncated: bool
    assignments_ended: int = Field(description="Assignments ended, over every sales force")


_BODY_DOC: dict[str, Any] = {
    **UPLOAD_BODY,
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": BulkDeleteIn.model_json_schema()},
            "text/csv": {"schema": {"type": "string", "example": "external_id\nACC-1\nACC-2\n"}},
        },
    },
}


def _invalid(loc: tuple[Any, ...], reason: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body", *loc), "msg": reason, "type": "value_error"}])


def _from_json(body: bytes) -> BulkDeleteIn:
    try:
        parsed = BulkDeleteIn.model_validate_json(body)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None
    if (parsed.external_ids is None) == (parsed.where is None):
        raise _invalid(("external_ids",), "give external_ids or where, not both")
    if parsed.where is not None and not parsed.where.model_dump(exclude_none=True):
        raise _invalid(("where",), "give at least one condition (industry, size, zip_prefix, has_location)")
    return parsed


def _from_csv(body: bytes) -> list[str]:
    text = body.decode("utf-8-sig", errors="replace")
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader, [])]
    if "external_id" not in header:
        raise _invalid(("external_id",), "the CSV header must name an external_id column")
    column = header.index("external_id")
    ids: list[str] = []
    for values in reader:
        if not any(v.strip() for v in values):
            continue  # a blank line
        value = values[column].strip() if column < len(values) else ""
        if not value or len(value) > 100:
            line = reader.line_num
            raise _invalid(("external_id",), f"line {line}: an external_id of 1 to 100 characters is required")
        ids.append(value)
    if not ids:
        raise _invalid(("external_id",), "the CSV lists no external_id")
    if len(ids) > MAX_IDS:
        raise _invalid(("external_id",), f"at most {MAX_IDS:,} ids per request")
    return ids


@router.post(
    "/bulk-delete",
    response_model=BulkDeleteReport,
    openapi_extra=_BODY_DOC,
    summary="Delete accounts by external id (JSON or CSV) or by filter; each as DELETE /v1/accounts/{id} would",
    description=(
        'JSON `{"external_ids": [...]}`, a CSV with an `external_id` column, or JSON `{"where": {...}}` (industry, '
        "size, zip_prefix, has_location; every condition given must hold). All in one transaction: each account's "
        "assignments end (in the history) and `assignment.account.deleted.v1` is sent. Ids that name no live "
        "account are reported in `not_found`, the rest deleted. Send an Idempotency-Key: a retried request gets the "
        "first answer and deletes nothing twice."
    ),
)
async def bulk_delete(
    request: Request,
    tenant: TenantId,
    uow: Uow,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    body = await request.body()
    idempotency = Idempotency(idempotency_key, _sha256_of(body)) if idempotency_key else None
    if idempotency is not None:
        earlier = await idempotency.earlier_answer(uow, tenant)
        if earlier is not None:
            return JSONResponse(earlier.response, earlier.status_code, headers={"Idempotent-Replayed": "true"})
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    external_ids: list[str] | None
    if kind in ("text/csv", "application/csv"):
        external_ids, where = _from_csv(body), None
    elif kind in ("application/json", ""):
        parsed = _from_json(body)
        external_ids, where = parsed.external_ids, parsed.where
    else:
        raise RequestValidationError(
            [{"loc": ("header", "content-type"), "msg": "use application/json or text/csv", "type": "value_error"}]
        )
    report: DeleteReport = await delete_accounts(
        uow,
        tenant,
        external_ids=external_ids,
        where=AccountFilter(**where.model_dump()) if where is not None else None,
        idempotency=idempotency,
    )
    return JSONResponse(report.as_dict())


def _sha256_of(body: bytes) -> Callable[[], Awaitable[str]]:
    digest = hashlib.sha256(body).hexdigest()

    async def sha256() -> str:
        return digest

    return sha256
