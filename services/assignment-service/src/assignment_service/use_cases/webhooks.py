"""Webhooks for CRMs that cannot consume Kafka: notices signed with HMAC-SHA256, retried until delivered.

A delivery row is written in the transaction that emits the notice, so a notice is never lost; the
delivery worker (``workers/webhooks.py``) sends due rows and backs off exponentially while a receiver is down.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import UTC, datetime

from territory_shared.errors import InvalidInput, NotFound
from territory_shared.events.envelope import CloudEvent

from assignment_service.db.records import WebhookRecord
from assignment_service.db.unit_of_work import UnitOfWork

# The notices a webhook can be sent: asking for any other type would register a hook that never fires.
# geo-service's approval and schedule notices are for people too (an approver to act, a planner to know).
APPROVAL_EVENT_TYPES = (
    "geo.alignment.submitted.v1",
    "geo.alignment.approved.v1",
    "geo.alignment.rejected.v1",
    "geo.alignment.approval_overridden.v1",
    "geo.alignment.publish_scheduled.v1",
    "geo.alignment.publish_cancelled.v1",
)
DELIVERABLE_EVENT_TYPES = (
    "assignment.realignment.completed.v1",
    "metrics.territory.out_of_balance_detected.v1",
    *APPROVAL_EVENT_TYPES,
)
DEFAULT_EVENT_TYPES = ["assignment.realignment.completed.v1"]
SIGNATURE_HEADER = "X-Territory-Signature"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def register_webhook(
    uow: UnitOfWork, tenant_id: str, url: str, secret: str | None, event_types: list[str] | None
) -> WebhookRecord:
    """Register a URL for the given event types (realignment notices when omitted); only deliverable types."""
    _check_event_types(event_types)
    async with uow:
        hook = WebhookRecord(
            id=str(uuid.uuid4()),
            tenant_id=tenant_id,
            url=url,
            secret=secret or secrets.token_urlsafe(32),
            event_types=event_types or DEFAULT_EVENT_TYPES,
            active=True,
            created_at=datetime.now(UTC),
        )
        uow.runs.add(hook)
        await uow.commit()
        return hook


def _check_event_types(event_types: list[str] | None) -> None:
    if event_types is None:
        return
    if not event_types:
        # An empty list would otherwise mean the default: say which you want, or leave the field out.
        raise InvalidInput(
            "event_types is empty: name at least one, or omit it for realignment notices", field="event_types"
        )
    unknown = [(i, t) for i, t in enumerate(event_types) if t not in DELIVERABLE_EVENT_TYPES]
    if unknown:
        raise InvalidInput(
            f"{', '.join(repr(t) for _, t in unknown)} cannot be delivered to a webhook; "
            f"deliverable types are {', '.join(DELIVERABLE_EVENT_TYPES)}.",
            field="event_types",
            errors=[
                {"field": f"event_types.{i}", "reason": f"not a deliverable event type: {t!r}"} for i, t in unknown
            ],
            deliverable=list(DELIVERABLE_EVENT_TYPES),
        )


async def deactivate_webhook(uow: UnitOfWork, tenant_id: str, webhook_id: str) -> None:
    async with uow:
        hook = await uow.runs.webhook(tenant_id, webhook_id)
        if hook is None:
            raise NotFound(f"Webhook {webhook_id} does not exist.")
        hook.active = False
        await uow.commit()


async def queue_deliveries(uow: UnitOfWork, tenant_id: str, event: CloudEvent) -> int:
    hooks = [h for h in await uow.runs.webhooks(tenant_id) if h.active and event.type in h.event_types]
    now = datetime.now(UTC)
    body = event.to_bytes()
    await uow.runs.add_deliveries(
        [
            {
                "webhook_id": h.id,
                "tenant_id": tenant_id,
                "event_id": event.id,
                "event_type": event.type,
                "payload": body,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "last_error": None,
                "delivered_at": None,
            }
            for h in hooks
        ]
    )
    return len(hooks)
