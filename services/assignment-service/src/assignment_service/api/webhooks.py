from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field
from territory_shared.api.problems import NotFound
from territory_shared.api.tenancy import TenantId

from assignment_service.api.deps import Uow
from assignment_service.use_cases.webhooks import DELIVERABLE_EVENT_TYPES, deactivate_webhook, register_webhook

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: AnyHttpUrl
    secret: str | None = Field(
        default=None, min_length=16, max_length=200, description="HMAC-SHA256 key; generated when omitted"
    )
    event_types: list[str] | None = Field(
        default=None,
        examples=[["assignment.realignment.completed.v1"]],
        description=f"Any of {', '.join(DELIVERABLE_EVENT_TYPES)}; realignment notices when omitted",
    )


class WebhookRead(BaseModel):
    id: str
    url: str
    event_types: list[str]
    active: bool
    created_at: datetime
    secret: str | None = Field(default=None, description="Shown once, when the webhook is registered")


class DeliveryRead(BaseModel):
    event_id: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    delivered_at: datetime | None


@router.post(
    "",
    response_model=WebhookRead,
    status_code=status.HTTP_201_CREATED,
    summary="Register a URL for realignment notices",
    description="Each POST carries the CloudEvent as its body and `X-Territory-Signature: sha256=<hex>`, the "
    "HMAC-SHA256 of the body with the secret. Deliveries are retried with exponential backoff until a 2xx.",
)
async def create(body: WebhookCreate, tenant: TenantId, uow: Uow) -> WebhookRead:
    hook = await register_webhook(uow, tenant, str(body.url), body.secret, body.event_types)
    return WebhookRead(
        id=hook.id,
        url=hook.url,
        event_types=hook.event_types,
        active=hook.active,
        created_at=hook.created_at,
        secret=hook.secret,
    )


@router.get("", response_model=list[WebhookRead])
async def list_webhooks(tenant: TenantId, uow: Uow) -> list[WebhookRead]:
    async with uow:
        hooks = await uow.runs.webhooks(tenant)
    return [
        WebhookRead(id=h.id, url=h.url, event_types=h.event_types, active=h.active, created_at=h.created_at)
        for h in hooks
    ]


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Stop sending to a webhook")
async def delete(webhook_id: str, tenant: TenantId, uow: Uow) -> Response:
    await deactivate_webhook(uow, tenant, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{webhook_id}/deliveries", response_model=list[DeliveryRead], summary="Latest deliveries and their state")
async def deliveries(
    webhook_id: str, tenant: TenantId, uow: Uow, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[DeliveryRead]:
    async with uow:
        if await uow.runs.webhook(tenant, webhook_id) is None:
            raise NotFound(f"Webhook {webhook_id} does not exist.")
        rows = await uow.runs.deliveries(tenant, webhook_id, limit)
    return [DeliveryRead(**{k: getattr(d, k) for k in DeliveryRead.model_fields}) for d in rows]
