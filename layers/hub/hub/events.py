"""The normalised event envelope every webhook becomes (documented in docs/events.md)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# Stable namespace so the same provider event always gets the same event_id (replays,
# duplicates): consumers can dedupe on it too.
_EVENT_NAMESPACE = uuid.UUID("6f1c1f0e-6a43-4b6e-9a70-3d1f0c2b7e51")


def event_id_for(org_id: str, provider: str, dedupe_key: str) -> str:
    return str(uuid.uuid5(_EVENT_NAMESPACE, f"{org_id}|{provider}|{dedupe_key}"))


class InboundMessage(BaseModel):
    """data of ``message.received``."""

    channel: Literal["whatsapp", "sms", "email"]
    message_id: str
    from_address: str = Field(description="E.164 phone for WhatsApp/SMS, email otherwise")
    from_name: str | None = None
    message_type: str
    text: str | None = None
    media_url: str | None = None
    instance: str | None = None


class PaymentData(BaseModel):
    """data of ``payment.*`` events (Stripe, Asaas, MercadoPago, PagBank)."""

    payment_id: str = Field(description="the provider's id of the payment/charge")
    external_reference: str | None = Field(None, description="our charge id, when we created it")
    status: str = Field(description="the provider's status, verbatim (e.g. RECEIVED, succeeded)")
    amount_cents: int | None = Field(None, description="integer centavos; never a float")
    currency: str = "BRL"
    method: str | None = Field(None, description="pix, boleto, credit_card, …")
    customer_id: str | None = None
    subscription_id: str | None = None
    refunded_cents: int | None = None
    paid_at: datetime | None = Field(
        None, description="when the payer paid, from the provider's payment object (not when the event was sent)"
    )
    amount_problem: str | None = Field(
        None,
        description="why the provider's amount is not money (negative, not finite, fractions of a centavo, "
        "huge, not a number): the event is published, flagged, and never applied to a charge",
    )


class SubscriptionData(BaseModel):
    """data of ``subscription.*`` events."""

    subscription_id: str
    status: str
    customer_id: str | None = None
    external_reference: str | None = None
    current_period_end: datetime | None = None


class MessageStatusData(BaseModel):
    """data of ``message.status`` (WhatsApp Cloud API statuses, Twilio callbacks)."""

    channel: Literal["whatsapp", "sms"]
    message_id: str
    status: Literal["queued", "sent", "delivered", "read", "failed"]
    recipient: str | None = None
    error_code: str | None = None
    error_message: str | None = None


class EmailEventData(BaseModel):
    """data of ``email.*`` events (Resend tracking webhooks)."""

    email_id: str
    to: list[str] = Field(default_factory=list)
    from_address: str | None = None
    subject: str | None = None
    reason: str | None = Field(None, description="bounce/complaint detail, when given")


class SocialCommentData(BaseModel):
    """data of ``social.comment`` (Instagram and Facebook Page comments)."""

    network: Literal["instagram", "facebook"]
    comment_id: str
    post_id: str | None = None
    author_id: str | None = None
    author_name: str | None = None
    text: str | None = None


class SocialMentionData(BaseModel):
    """data of ``social.mention``: someone mentioned the org's account — on Instagram in a comment
    (``comment_id`` set) or a media caption (``mentioned_in: "caption"``); on Facebook in a post or
    a comment about the page (``mentioned_in: "post" | "comment"``, ``media_id`` = the post id).
    Instagram's webhook carries ids only: ``GET /{ig-user-id}?fields=mentioned_comment.comment_id(...)``
    or ``mentioned_media.media_id(...)`` reads the text (Instagram API with Facebook Login)."""

    network: Literal["instagram", "facebook"]
    account_id: str | None = None  # the org's account (Instagram user, Facebook page) that was mentioned
    media_id: str | None = None
    comment_id: str | None = None
    mentioned_in: Literal["comment", "caption", "post"]
    author_id: str | None = None
    author_name: str | None = None


class CustomEventData(BaseModel):
    """data of events from ``custom/{source}`` senders: their payload, untouched."""

    source: str
    payload: dict[str, Any]


class HubEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_id: str
    org_id: str
    provider: str
    type: str
    dedupe_key: str
    occurred_at: datetime
    received_at: datetime
    data: dict[str, Any]
    raw_ref: str

    @classmethod
    def build(
        cls,
        *,
        org_id: str,
        provider: str,
        type: str,
        dedupe_key: str,
        occurred_at: datetime,
        received_at: datetime,
        data: BaseModel,
        raw_ref: str,
    ) -> HubEvent:
        return cls(
            event_id=event_id_for(org_id, provider, dedupe_key),
            org_id=org_id,
            provider=provider,
            type=type,
            dedupe_key=dedupe_key,
            occurred_at=occurred_at,
            received_at=received_at,
            data=data.model_dump(mode="json"),
            raw_ref=raw_ref,
        )
