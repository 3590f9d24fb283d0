"""Stripe: inbound webhook (signature check and normalisation to payment/subscription events).

The provider's API facts this module relies on, with their doc links: README.md.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from hub.events import HubEvent, PaymentData, SubscriptionData
from hub.providers.base.client import parse_credentials
from hub.providers.base.webhook import WebhookSecretCredentials, matches_any, timestamped_signatures
from hub.resilience.ratelimit import DAY
from hub.webhooks.models import RawWebhook, WebhookAuthenticationError, WebhookSpec

PROVIDER = "stripe"
SIGNATURE_HEADER = "stripe-signature"
TOLERANCE_SECONDS = 300
SIGNING_KEY_PREFIX = "whsec_"
# Unix seconds; 12 digits is year 33658, so anything longer is not a timestamp.
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")


class StripeWebhookCredentials(WebhookSecretCredentials):
    """The webhook endpoint's signing secret, plus the previous one while a roll is in
    progress (Stripe keeps the old secret valid for up to 24 h after rolling)."""

    @field_validator("webhook_secret", "previous_webhook_secret")
    @classmethod
    def _endpoint_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(SIGNING_KEY_PREFIX):
            raise ValueError("must be the endpoint signing secret (whsec_…)")
        return value


def _parse_credentials(raw: Mapping[str, Any]) -> StripeWebhookCredentials:
    return parse_credentials(StripeWebhookCredentials, raw, provider=PROVIDER)


def _parse_signature_header(value: str) -> tuple[str, list[str]]:
    """``t=…,v1=…[,v1=…][,v0=…]`` → (timestamp, v1 signatures)."""
    return timestamped_signatures(
        value, header="Stripe-Signature", timestamp_key="t", timestamp=_TIMESTAMP, provider=PROVIDER
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# https://docs.stripe.com/webhooks#verify-manually
def verify_stripe_webhook(request: RawWebhook, secret: dict[str, Any]) -> None:
    """``Stripe-Signature`` checked against the current and (while rolling) the previous
    endpoint secret, in constant time; the signed timestamp must be within 300 s of the
    moment the request arrived, in either direction."""
    creds = _parse_credentials(secret)
    header = request.header(SIGNATURE_HEADER)
    if not header:
        raise WebhookAuthenticationError("missing Stripe-Signature header", provider=PROVIDER)
    timestamp, signatures = _parse_signature_header(header)

    signed_payload = timestamp.encode("ascii") + b"." + request.body
    expected = [hmac.new(key.encode(), signed_payload, hashlib.sha256).hexdigest() for key in creds.secrets()]
    # Every signature against every secret, none skipped.
    if not any([matches_any(signature, expected) for signature in signatures]):
        raise WebhookAuthenticationError("no matching Stripe signature", provider=PROVIDER)

    age = _aware(request.received_at).timestamp() - int(timestamp)
    if age > TOLERANCE_SECONDS:
        raise WebhookAuthenticationError("Stripe signature timestamp is too old", provider=PROVIDER)
    if age < -TOLERANCE_SECONDS:
        raise WebhookAuthenticationError("Stripe signature timestamp is in the future", provider=PROVIDER)


# ----- normalisation -------------------------------------------------------------------------

ObjectT = TypeVar("ObjectT")


class _StripeModel(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Expanded(_StripeModel):
    """An expandable field that arrived expanded: we only need its id."""

    id: str


class _EventData(_StripeModel, Generic[ObjectT]):
    object: ObjectT


class _StripeEvent(_StripeModel, Generic[ObjectT]):
    id: str = Field(min_length=1)
    type: str = Field(min_length=1)
    created: int
    data: _EventData[ObjectT]


def _id_of(value: str | _Expanded | None) -> str | None:
    return value.id if isinstance(value, _Expanded) else value


def _charge_id(metadata: Mapping[str, Any] | None) -> str | None:
    value = (metadata or {}).get("charge_id")
    return value if isinstance(value, str) and value else None


# https://docs.stripe.com/api/payment_intents/object
class _PaymentIntent(_StripeModel):
    id: str = Field(min_length=1)
    amount: int
    amount_received: int | None = None
    currency: str = Field(min_length=1)
    customer: str | _Expanded | None = None
    metadata: dict[str, Any] | None = None
    payment_method_types: list[str] = Field(default_factory=list)
    status: str


# https://docs.stripe.com/api/charges/object
class _PaymentMethodDetails(_StripeModel):
    type: str | None = None


class _Charge(_StripeModel):
    id: str = Field(min_length=1)
    amount: int
    amount_refunded: int
    currency: str = Field(min_length=1)
    customer: str | _Expanded | None = None
    metadata: dict[str, Any] | None = None
    payment_intent: str | _Expanded | None = None
    payment_method_details: _PaymentMethodDetails | None = None
    status: str


# https://docs.stripe.com/api/invoices/object — the subscription is ``parent.subscription_details
# .subscription`` since API version 2025-03-31.basil, top-level ``subscription`` before it.
class _SubscriptionDetails(_StripeModel):
    subscription: str | _Expanded | None = None


class _InvoiceParent(_StripeModel):
    subscription_details: _SubscriptionDetails | None = None


class _Invoice(_StripeModel):
    id: str = Field(min_length=1)
    amount_due: int
    amount_paid: int
    currency: str = Field(min_length=1)
    customer: str | _Expanded | None = None
    metadata: dict[str, Any] | None = None
    status: str | None = None
    subscription: str | _Expanded | None = None
    parent: _InvoiceParent | None = None

    def subscription_id(self) -> str | None:
        if self.subscription is not None:
            return _id_of(self.subscription)
        details = self.parent.subscription_details if self.parent else None
        return _id_of(details.subscription) if details else None


# https://docs.stripe.com/api/subscriptions/object — ``current_period_end`` moved from the
# subscription to its items (https://docs.stripe.com/api/subscription_items/object) in 2025-03-31.basil.
class _SubscriptionItem(_StripeModel):
    current_period_end: int | None = None


class _SubscriptionItems(_StripeModel):
    data: list[_SubscriptionItem] = Field(default_factory=list)


class _Subscription(_StripeModel):
    id: str = Field(min_length=1)
    status: str
    customer: str | _Expanded | None = None
    metadata: dict[str, Any] | None = None
    current_period_end: int | None = None
    items: _SubscriptionItems | None = None

    def period_end(self) -> datetime | None:
        ends = [self.current_period_end] if self.current_period_end is not None else []
        if not ends and self.items:
            ends = [item.current_period_end for item in self.items.data if item.current_period_end is not None]
        # Items of one subscription normally share a period; if not, the earliest end is when
        # something next falls due.
        return datetime.fromtimestamp(min(ends), tz=UTC) if ends else None


def _payment_intent(obj: _PaymentIntent, event_type: str) -> PaymentData:
    amount = obj.amount
    if event_type == "payment_intent.succeeded" and obj.amount_received is not None:
        amount = obj.amount_received
    return PaymentData(
        payment_id=obj.id,
        external_reference=_charge_id(obj.metadata),
        status=obj.status,
        amount_cents=amount,
        currency=obj.currency.upper(),
        # Only unambiguous when a single method type was allowed for the intent.
        method=obj.payment_method_types[0] if len(obj.payment_method_types) == 1 else None,
        customer_id=_id_of(obj.customer),
    )


def _charge(obj: _Charge, event_type: str) -> PaymentData:
    return PaymentData(
        # The PaymentIntent id when there is one, so a refund correlates with its payment.confirmed.
        payment_id=_id_of(obj.payment_intent) or obj.id,
        external_reference=_charge_id(obj.metadata),
        status=obj.status,
        amount_cents=obj.amount,
        currency=obj.currency.upper(),
        method=obj.payment_method_details.type if obj.payment_method_details else None,
        customer_id=_id_of(obj.customer),
        refunded_cents=obj.amount_refunded,
    )


def _invoice(obj: _Invoice, event_type: str) -> PaymentData:
    paid = event_type in ("invoice.paid", "invoice.payment_succeeded")
    return PaymentData(
        payment_id=obj.id,
        external_reference=_charge_id(obj.metadata),
        status=obj.status or "unknown",  # nullable in the API; set on paid/failed invoices
        amount_cents=obj.amount_paid if paid else obj.amount_due,
        currency=obj.currency.upper(),
        customer_id=_id_of(obj.customer),
        subscription_id=obj.subscription_id(),
    )


def _subscription(obj: _Subscription, event_type: str) -> SubscriptionData:
    return SubscriptionData(
        subscription_id=obj.id,
        status=obj.status,
        customer_id=_id_of(obj.customer),
        external_reference=_charge_id(obj.metadata),
        current_period_end=obj.period_end(),
    )


# Stripe event type → (hub event type, data.object model, builder).
_MAPPING: dict[str, tuple[str, type[BaseModel], Callable[[Any, str], BaseModel]]] = {
    # https://docs.stripe.com/api/events/types
    "payment_intent.succeeded": ("payment.confirmed", _PaymentIntent, _payment_intent),
    "payment_intent.payment_failed": ("payment.failed", _PaymentIntent, _payment_intent),
    "charge.refunded": ("payment.refunded", _Charge, _charge),
    "invoice.paid": ("payment.confirmed", _Invoice, _invoice),
    "invoice.payment_succeeded": ("payment.confirmed", _Invoice, _invoice),
    "invoice.payment_failed": ("payment.failed", _Invoice, _invoice),
    "customer.subscription.created": ("subscription.updated", _Subscription, _subscription),
    "customer.subscription.updated": ("subscription.updated", _Subscription, _subscription),
    "customer.subscription.deleted": ("subscription.canceled", _Subscription, _subscription),
}


# https://docs.stripe.com/api/events/object
def normalise_stripe_webhook(
    payload: Any, *, org_id: str, received_at: datetime, raw_ref: str, request: RawWebhook | None = None
) -> list[HubEvent]:
    """One Stripe event → at most one hub event, deduplicated on the event id (evt_…).
    Types we do not map are archived but produce no event."""
    envelope = _StripeEvent[dict[str, Any]].model_validate(payload)
    mapping = _MAPPING.get(envelope.type)
    if mapping is None:
        return []
    hub_type, object_model, build = mapping
    # Validate again with the typed object, so errors name e.g. ``data.object.amount``.
    event = _StripeEvent[object_model].model_validate(payload)  # type: ignore[valid-type]
    return [
        HubEvent.build(
            org_id=org_id,
            provider=PROVIDER,
            type=hub_type,
            dedupe_key=envelope.id,
            occurred_at=datetime.fromtimestamp(envelope.created, tz=UTC),
            received_at=received_at,
            data=build(event.data.object, envelope.type),
            raw_ref=raw_ref,
        )
    ]


# The dedupe window is at least the provider's documented retry window.
# Stripe retries for 3 days. PaymentIntent, SetupIntent and Checkout Session objects carry a
# ``client_secret`` that completes the payment and "should not be stored, logged, or exposed to
# anyone other than the customer"
# (https://docs.stripe.com/api/payment_intents/object#payment_intent_object-client_secret).
# Redacting it changes the signed bytes: replay does not verify signatures again.
WEBHOOK = WebhookSpec(
    "stripe", verify_stripe_webhook, normalise_stripe_webhook, 4 * DAY, archive_redact=("client_secret",)
)
