from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from geo_service.db.records import ApprovalPolicyRecord, ApprovalStepRecord
from geo_service.domain.approval import ApprovalLevel, ApprovalPolicy, ApprovalStep
from geo_service.domain.schedule import as_utc


class ApprovalRepository:
    """Sales forces' approval policies and the steps of each draft's approval."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def policy(self, tenant_id: str, sales_force: str) -> ApprovalPolicy | None:
        record = await self._session.get(ApprovalPolicyRecord, (tenant_id, sales_force))
        return _policy(record) if record is not None else None

    async def put_policy(self, policy: ApprovalPolicy) -> None:
        levels: list[dict[str, object]] = [
            {"name": lv.name, "roles": list(lv.roles), "users": list(lv.users)} for lv in policy.levels
        ]
        record = await self._session.get(ApprovalPolicyRecord, (policy.tenant_id, policy.sales_force))
        if record is None:
            self._session.add(
                ApprovalPolicyRecord(
                    tenant_id=policy.tenant_id,
                    sales_force=policy.sales_force,
                    levels=levels,
                    allow_self_approval=policy.allow_self_approval,
                    version=policy.version,
                    updated_by=policy.updated_by,
                    updated_at=policy.updated_at,
                )
            )
            return
        record.levels, record.allow_self_approval = levels, policy.allow_self_approval
        record.version, record.updated_by, record.updated_at = policy.version, policy.updated_by, policy.updated_at

    async def delete_policy(self, tenant_id: str, sales_force: str) -> None:
        record = await self._session.get(ApprovalPolicyRecord, (tenant_id, sales_force))
        if record is not None:
            await self._session.delete(record)

    async def steps(self, alignment_id: str) -> list[ApprovalStep]:
        query = (
            select(ApprovalStepRecord)
            .where(ApprovalStepRecord.alignment_id == alignment_id)
            .order_by(ApprovalStepRecord.seq)
        )
        return [_step(r) for r in (await self._session.execute(query)).scalars()]

    async def add_step(self, tenant_id: str, alignment_id: str, step: ApprovalStep) -> None:
        self._session.add(
            ApprovalStepRecord(
                id=str(uuid.uuid4()),
                tenant_id=tenant_id,
                alignment_id=alignment_id,
                seq=step.seq,
                level=step.level,
                decision=step.decision,
                by=step.by,
                comment=step.comment,
                at=step.at,
                version=step.version,
            )
        )


def _policy(r: ApprovalPolicyRecord) -> ApprovalPolicy:
    return ApprovalPolicy(
        tenant_id=r.tenant_id,
        sales_force=r.sales_force,
        levels=[
            ApprovalLevel(str(lv["name"]), tuple(lv.get("roles") or ()), tuple(lv.get("users") or ()))  # type: ignore[arg-type]
            for lv in r.levels
        ],
        allow_self_approval=r.allow_self_approval,
        version=r.version,
        updated_by=r.updated_by,
        updated_at=as_utc(r.updated_at),
    )


def _step(r: ApprovalStepRecord) -> ApprovalStep:
    return ApprovalStep(r.seq, r.level, r.decision, r.by, r.comment, as_utc(r.at), r.version)
