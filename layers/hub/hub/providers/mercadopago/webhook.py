"""Mercado Pago: inbound webhook (x-signature check and normalisation to "look it up" events).

The provider's API facts this module relies on, with their doc links: README.md.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hub.errors import InvalidRequestError
from hub.events import HubEvent, PaymentData, SubscriptionData
from hub.providers.base.client import parse_credentials
from hub.providers.base.webhook import WebhookSecretCredentials, matches_any, timestamped_signatures
from hub.resilience.ratelimit import DAY
from hub.webhooks.models import RawWebhook, WebhookAuthenticationError, WebhookSpec

PROVIDER = "mercadopago"
SIGNATURE_HEADER = "x-signature"
REQUEST_ID_HEADER = "x-request-id"
DATA_ID_QUERY = "data.id"
TOLERANCE_SECONDS = 300
PENDING_LOOKUP = "pending_lookup"
_TIMESTAMP = re.compile(r"^[0-9]{1,16}$")
_MILLISECONDS_FROM = 10**11  # a seconds timestamp this large is year 5138: it must be milliseconds
_ALPHANUMERIC = re.compile(r"^[A-Za-z0-9]+$")


class MercadoPagoWebhookCredentials(WebhookSecretCredentials):
    """The "secret signature" of the app's webhooks; the previous one is accepted while it is
    being reset."""


def _parse_credentials(raw: Mapping[str, Any]) -> MercadoPagoWebhookCredentials:
    return parse_credentials(MercadoPagoWebhookCredentials, raw, provider=PROVIDER)


def _parse_signature_header(value: str) -> tuple[str, list[str]]:
    """``ts=…,v1=…`` → (timestamp, v1 signatures)."""
    return timestamped_signatures(
        value, header="x-signature", timestamp_key="ts", timestamp=_TIMESTAMP, provider=PROVIDER
    )


def manifest_data_id(value: str) -> str:
    """``data.id`` as it enters the manifest: lower case when alphanumeric."""
    return value.lower() if _ALPHANUMERIC.fullmatch(value) else value


def signature_manifest(data_id: str | None, request_id: str | None, ts: str) -> str:
    """``id:…;request-id:…;ts:…;`` with the parts whose value is absent left out."""
    manifest = ""
    if data_id:
        manifest += f"id:{manifest_data_id(data_id)};"
    if request_id:
        manifest += f"request-id:{request_id};"
    return manifest + f"ts:{ts};"


def _seconds(ts: str) -> float:
    value = int(ts)
    return value / 1000 if value >= _MILLISECONDS_FROM else float(value)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# https://www.mercadopago.com.br/developers/en/docs/your-integrations/notifications/webhooks
def verify_mercadopago_webhook(request: RawWebhook, secret: dict[str, Any]) -> None:
    """``x-signature`` over the documented manifest, checked in constant time against the
    current and (while resetting) the previous secret; ``ts`` within 300 s of arrival."""
    creds = _parse_credentials(secret)
    header = request.header(SIGNATURE_HEADER)
    if not header:
        raise WebhookAuthenticationError("missing x-signature header", provider=PROVIDER)
    ts, signatures = _parse_signature_header(header)
    manifest = signature_manifest(
        request.query.get(DATA_ID_QUERY) or None, request.header(REQUEST_ID_HEADER) or None, ts
    ).encode("utf-8")

    expected = [hmac.new(key.encode(), manifest, hashlib.sha256).hexdigest() for key in creds.secrets()]
    # Every signature against every secret, none skipped.
    if not any([matches_any(signature.lower(), expected) for signature in signatures]):
        raise WebhookAuthenticationError("invalid x-signature", provider=PROVIDER)

    age = _aware(request.received_at).timestamp() - _seconds(ts)
    if age > TOLERANCE_SECONDS:
        raise WebhookAuthenticationError("x-signature timestamp is too old", provider=PROVIDER)
    if age < -TOLERANCE_SECONDS:
        raise WebhookAuthenticationError("x-signature timestamp is in the future", provider=PROVIDER)


# ----- normalisation -------------------------------------------------------------------------


class _MercadoPagoModel(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Data(_MercadoPagoModel):
    id: str = Field(min_length=1)

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        # Documented as a string ("999999999"); accept a JSON integer too, never a bool.
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class _Notification(_MercadoPagoModel):
    id: str | int | None = None  # the notification's own id: the same on every resend of it
    type: str = Field(min_length=1)
    action: str | None = None
    data: _Data | None = None


class _ResourceNotification(_Notification):
    data: _Data


def _check_signed_data_id(body_id: str, request: RawWebhook | None) -> None:
    """The body is unsigned: its data.id must be the one the signature covered (the query's)."""
    if request is None:
        return
    signed = request.query.get(DATA_ID_QUERY)
    if signed and manifest_data_id(signed) != manifest_data_id(body_id):
        raise InvalidRequestError("data.id in the body differs from the signed data.id query parameter")


def _dedupe_key(resource: _ResourceNotification, resource_id: str) -> str:
    """data.id + action, plus the notification id when there is one. Without it every change
    to one payment (approved, later refunded) is ``{id}:payment.updated`` and the refund
    would be dropped as a duplicate within the dedupe window."""
    key = f"{resource_id}:{resource.action or resource.type}"
    if resource.id is not None and not isinstance(resource.id, bool):
        key += f":{resource.id}"
    return key


# https://www.mercadopago.com.br/developers/en/docs/your-integrations/notifications/webhooks (event table)
def normalise_mercadopago_webhook(
    payload: Any, *, org_id: str, received_at: datetime, raw_ref: str, request: RawWebhook | None = None
) -> list[HubEvent]:
    """``payment`` → ``payment.updated`` and ``subscription_preapproval`` →
    ``subscription.updated``, both with status ``pending_lookup`` (the notification carries
    no status: a consumer fetches the resource). Other topics produce no event.

    occurred_at is the receive time: ``date_created`` is documented as the *resource's*
    creation date, not the time of the change being notified."""
    notification = _Notification.model_validate(payload)
    data: BaseModel
    if notification.type == "payment":
        hub_type = "payment.updated"
    elif notification.type == "subscription_preapproval":
        hub_type = "subscription.updated"
    else:
        return []
    resource = _ResourceNotification.model_validate(payload)
    resource_id = resource.data.id
    _check_signed_data_id(resource_id, request)
    if hub_type == "payment.updated":
        data = PaymentData(payment_id=resource_id, status=PENDING_LOOKUP)
    else:
        data = SubscriptionData(subscription_id=resource_id, status=PENDING_LOOKUP)
    return [
        HubEvent.build(
            org_id=org_id,
            provider=PROVIDER,
            type=hub_type,
            dedupe_key=_dedupe_key(resource, resource_id),
            occurred_at=received_at,
            received_at=received_at,
            data=data,
            raw_ref=raw_ref,
        )
    ]


# The dedupe window is at least the provider's documented retry window.
# Mercado Pago retries for 4 days.
WEBHOOK = WebhookSpec("mercadopago", verify_mercadopago_webhook, normalise_mercadopago_webhook, 5 * DAY)
