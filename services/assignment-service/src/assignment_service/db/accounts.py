"""Accounts: bulk reads and writes by external id, keyset pages for full passes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, null, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from assignment_service.db.account_search import AccountSearch, assignment_rows, search_conditions
from assignment_service.db.bulk import copy_update_rows, insert_rows, use_copy
from assignment_service.db.lists import LOOKUP_CHUNK, among
from assignment_service.db.records import AccountRecord
from assignment_service.db.rows import AnyRow
from assignment_service.domain.accounts import ACCOUNT_FIELDS, Account, AccountFilter

A = AccountRecord.__table__


class AccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def by_external_ids(self, tenant_id: str, external_ids: Sequence[str]) -> dict[str, AnyRow]:
        out: dict[str, AnyRow] = {}
        for start in range(0, len(external_ids), LOOKUP_CHUNK):
            rows = await self._s.execute(
                select(A).where(
                    A.c.tenant_id == tenant_id,
                    among(self._s, A.c.external_id, external_ids[start : start + LOOKUP_CHUNK]),
                )
            )
            out.update({r.external_id: r for r in rows})
        return out

    async def by_ids(
        self, tenant_id: str, ids: Sequence[str], *, live_only: bool = True, with_custom: bool = True
    ) -> list[Account]:
        out: list[Account] = []
        for start in range(0, len(ids), LOOKUP_CHUNK):
            chunk = ids[start : start + LOOKUP_CHUNK]
            q = select(*account_columns(with_custom)).where(A.c.tenant_id == tenant_id, among(self._s, A.c.id, chunk))
            if live_only:
                q = q.where(A.c.deleted_at.is_(None))
            out += map(stored_account, await self._s.execute(q))
        return out

    async def get(self, tenant_id: str, external_id: str) -> AnyRow | None:
        q = select(A).where(A.c.tenant_id == tenant_id, A.c.external_id == external_id)
        return (await self._s.execute(q)).first()

    async def page(
        self,
        tenant_id: str,
        after_id: str | None,
        limit: int,
        *,
        with_custom: bool = True,
    ) -> list[Account]:
        """Live accounts in id order after ``after_id``: a keyset page that stays fast at any depth.

        ``with_custom=False``: see ``account_columns``. ``search`` is the same with filters.
        """
        q = select(*account_columns(with_custom)).where(A.c.tenant_id == tenant_id, A.c.deleted_at.is_(None))
        if after_id is not None:
            q = q.where(A.c.id > after_id)
        return [stored_account(r) for r in await self._s.execute(q.order_by(A.c.id).limit(limit))]

    async def search(self, tenant_id: str, where: AccountSearch, after_id: str | None, limit: int) -> Sequence[AnyRow]:
        """Live accounts that meet ``where``, in id order after ``after_id`` (a keyset page, see account_search)."""
        conditions = search_conditions(tenant_id, where, self._s.get_bind().dialect.name)
        q = select(*account_columns(True)).where(*conditions)
        if after_id is not None:
            q = q.where(A.c.id > after_id)
        return (await self._s.execute(q.order_by(A.c.id).limit(limit))).all()

    async def assignments_page(
        self, tenant_id: str, sales_force: str, where: AccountSearch, after_id: str | None, limit: int
    ) -> Sequence[AnyRow]:
        """A sales force's assignments of the accounts that meet ``where``, with account and rep names, in account
        id order after ``after_id`` (what the exports write)."""
        return (await self._s.execute(assignment_rows(tenant_id, sales_force, where, after_id, limit))).all()

    async def matching(self, tenant_id: str, where: AccountFilter) -> Sequence[AnyRow]:
        """Live accounts that meet every condition of ``where``, in id order (only what deleting them needs)."""
        q = select(A.c.id, A.c.external_id, A.c.version, A.c.potential, A.c.deleted_at).where(
            A.c.tenant_id == tenant_id, A.c.deleted_at.is_(None)
        )
        if where.industry is not None:
            q = q.where(func.lower(A.c.industry) == where.industry.lower())
        if where.size is not None:
            q = q.where(A.c.size == where.size)
        if where.zip_prefix is not None:
            q = q.where(A.c.zip.startswith(where.zip_prefix, autoescape=True))
        if where.has_location is not None:
            q = q.where(A.c.lat.is_not(None) if where.has_location else A.c.lat.is_(None))
        return (await self._s.execute(q.order_by(A.c.id))).all()

    async def count_live(self, tenant_id: str) -> int:
        q = select(func.count()).where(A.c.tenant_id == tenant_id, A.c.deleted_at.is_(None))
        return int((await self._s.execute(q)).scalar_one())

    async def insert_many(self, rows: list[dict[str, Any]]) -> None:
        await insert_rows(self._s, A, rows, looked_up_by_key=True)

    async def update_many(self, rows: list[dict[str, Any]]) -> None:
        if use_copy(self._s, rows):
            await copy_update_rows(self._s, A, rows)
        elif rows:
            await self._s.execute(update(AccountRecord), rows)


def account_columns(with_custom: bool) -> list[Any]:
    """Every column, or all but the custom fields (read as None): only rules read them, and decoding a JSON
    document per account is a good part of reading many accounts."""
    if with_custom:
        return list(A.c)
    return [*(c for c in A.c if c.name != "custom"), null().label("custom")]


def stored_account(row: AnyRow) -> Account:
    """The account a row of ``account_columns`` holds; custom fields left unread are read as none."""
    columns = row._mapping
    return Account(**{name: columns[name] for name in STORED_FIELDS}, custom=columns["custom"] or {})


STORED_FIELDS = tuple(name for name in ACCOUNT_FIELDS if name != "custom")
