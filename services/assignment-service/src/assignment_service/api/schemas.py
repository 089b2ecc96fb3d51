"""API schemas shared by the account routes: an account as read, built from the domain's one list of its fields."""

from __future__ import annotations

from datetime import datetime
from typing import Any, get_type_hints

from pydantic import BaseModel, Field, create_model

from assignment_service.domain.accounts import ACCOUNT_FIELDS, Account

_TYPES = get_type_hints(Account)

# The account's fields (its id first), whether it is deleted, and when it last changed.
AccountRead: type[BaseModel] = create_model(
    "AccountRead",
    id=(str, ...),
    **{name: (_TYPES[name], ...) for name in ACCOUNT_FIELDS if name != "id"},  # type: ignore[call-overload]
    deleted=(bool, ...),
    updated_at=(datetime, ...),
)


def account_read(row: Any) -> BaseModel:
    """An account record (or row) as read over the API."""
    fields = {k: getattr(row, k) for k in AccountRead.model_fields if k != "deleted"}
    return AccountRead(**fields, deleted=row.deleted_at is not None)


class AccountPage(BaseModel):
    items: list[AccountRead]
    next: str | None = Field(description="URL of the next page (keyset on the account id), or null on the last page")
    next_cursor: str | None = Field(
        description="The `after` of the next page (the last id of this one), or null on the last page"
    )
