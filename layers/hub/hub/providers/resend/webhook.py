"""Resend: the inbound webhook (verify and normalise); the client is in ``client.py``."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hub.errors import (
    InvalidRequestError,
)
from hub.events import EmailEventData, HubEvent
from hub.providers.base.client import parse_credentials
from hub.providers.base.webhook import rotating_secrets
from hub.providers.resend.client import ResendCredentials
from hub.resilience.ratelimit import DAY
from hub.webhooks.models import RawWebhook, WebhookSpec
from hub.webhooks.standard import verify_standard_webhook

# Resend event type → hub event type. Email events from
# https://resend.com/docs/webhooks/event-types; ``email.received`` (inbound mail),
# ``email.scheduled``, ``contact.*`` and ``domain.*`` are archived but produce no event.
EMAIL_EVENT_TYPES: dict[str, str] = {
    "email.sent": "email.sent",
    "email.delivered": "email.delivered",
    "email.delivery_delayed": "email.delivery_delayed",
    "email.bounced": "email.bounced",
    "email.complained": "email.complained",
    "email.opened": "email.opened",
    "email.clicked": "email.clicked",
    "email.failed": "email.failed",
    "email.suppressed": "email.suppressed",
}


# https://resend.com/docs/webhooks/verify-webhooks-requests
def verify_resend_webhook(request: RawWebhook, secret: dict[str, Any]) -> None:
    """Svix signature over ``{svix-id}.{svix-timestamp}.{raw body}``, 5-minute tolerance,
    current or previous ``whsec_`` secret."""
    creds = parse_credentials(ResendCredentials, secret, provider="resend")
    secrets = rotating_secrets(creds, "webhook_secret", "previous_webhook_secret")
    verify_standard_webhook(request, secrets, provider="resend", header_prefix="svix")


class _ResendEmailData(BaseModel):
    model_config = ConfigDict(extra="ignore")

    email_id: str = Field(min_length=1)
    from_: str | None = Field(None, alias="from")
    to: list[str] | str = Field(default_factory=list)
    subject: str | None = None
    bounce: dict[str, Any] | None = None
    failed: dict[str, Any] | None = None
    suppressed: dict[str, Any] | None = None


class _ResendEnvelope(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: str
    created_at: datetime | None = None
    data: dict[str, Any] = Field(default_factory=dict)


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _reason(data: _ResendEmailData) -> str | None:
    """Bounce: ``Permanent/Suppressed: <message>``; failure: ``failed.reason``; suppression: its message."""
    if data.bounce:
        kind = "/".join(k for k in (_text(data.bounce.get("type")), _text(data.bounce.get("subType"))) if k)
        message = _text(data.bounce.get("message"))
        return ": ".join(part for part in (kind, message) if part) or None
    if data.failed:
        return _text(data.failed.get("reason"))
    if data.suppressed:
        return _text(data.suppressed.get("message")) or _text(data.suppressed.get("type"))
    return None


def _address(value: str | None) -> str | None:
    """``Acme <onboarding@resend.dev>`` → ``onboarding@resend.dev``."""
    if not value:
        return None
    return email.utils.parseaddr(value)[1] or value


# https://resend.com/docs/webhooks/event-types
def normalise_resend_webhook(
    payload: Any, *, org_id: str, received_at: datetime, raw_ref: str, request: RawWebhook | None = None
) -> list[HubEvent]:
    """``email.*`` tracking events → ``email.*`` hub events; the dedupe key is the
    ``svix-id`` header (the same on every retry of one delivery)."""
    envelope = _ResendEnvelope.model_validate(payload)
    hub_type = EMAIL_EVENT_TYPES.get(envelope.type)
    if hub_type is None:
        return []
    delivery_id = request.header("svix-id") if request is not None else None
    if not delivery_id:
        raise InvalidRequestError("svix-id header is required", code="invalid_payload")
    data = _ResendEmailData.model_validate(envelope.data)
    occurred_at = envelope.created_at or received_at
    if occurred_at.tzinfo is None:
        occurred_at = occurred_at.replace(tzinfo=UTC)
    event_data = EmailEventData(
        email_id=data.email_id,
        to=[data.to] if isinstance(data.to, str) else data.to,
        from_address=_address(data.from_),
        subject=data.subject,
        reason=_reason(data),
    )
    return [
        HubEvent.build(
            org_id=org_id,
            provider="resend",
            type=hub_type,
            dedupe_key=delivery_id,
            occurred_at=occurred_at,
            received_at=received_at,
            data=event_data,
            raw_ref=raw_ref,
        )
    ]


# The dedupe window is at least the provider's documented retry window.
WEBHOOK = WebhookSpec("resend", verify_resend_webhook, normalise_resend_webhook, 7 * DAY)
