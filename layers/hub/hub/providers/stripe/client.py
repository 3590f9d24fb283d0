"""Stripe: customers and subscriptions for the platform product (outbound adapter).

The provider's API facts this module relies on, with their doc links: README.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from aws_lambda_powertools.shared.lazy_import import LazyLoader
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from hub.config import get_settings
from hub.errors import (
    AuthenticationError,
    HubError,
    InvalidRequestError,
    ProviderUnavailableError,
    RateLimitedError,
)
from hub.payments.models import ProviderCustomer, SubscriptionCreated, SubscriptionSpec
from hub.providers.base.client import ProviderClient, ProviderCredentials, parse_retry_after
from hub.providers.base.webhook import WebhookRegistration, webhook_target

if TYPE_CHECKING:
    import httpx
else:  # imported on first use, not at init (cold start): a webhook receiver never calls out
    httpx = LazyLoader("httpx", globals(), "httpx")

PROVIDER = "stripe"
IDEMPOTENCY_HEADER = "Idempotency-Key"
_KEY_IN_USE_RETRY_SECONDS = 1.0
# The events the hub's receiver turns into hub events (webhook.py _MAPPING), names from
# https://docs.stripe.com/api/events/types.
WEBHOOK_EVENTS = (
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "charge.refunded",
    "invoice.paid",
    "invoice.payment_succeeded",
    "invoice.payment_failed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
)


class StripeCredentials(ProviderCredentials):
    api_key: SecretStr = Field(min_length=1)
    # Pin the API version per org (Stripe-Version header); None = the account's default.
    api_version: str | None = None

    @field_validator("api_key")
    @classmethod
    def _secret_key(cls, value: SecretStr) -> SecretStr:
        # Secret (sk_) or restricted (rk_) keys; a publishable key (pk_) cannot call these APIs.
        if not value.get_secret_value().startswith(("sk_", "rk_")):
            raise ValueError("api_key must be a secret (sk_) or restricted (rk_) key")
        return value


class StripeObject(BaseModel):
    """A Stripe API object: the fields we read, the rest kept as-is (``extra="allow"``)."""

    model_config = ConfigDict(extra="allow")

    id: str
    object: str | None = None


class StripeSubscription(StripeObject):
    status: str
    customer: str | dict[str, Any] | None = None
    cancel_at_period_end: bool | None = None
    latest_invoice: str | dict[str, Any] | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


def _stripe_error(response: httpx.Response) -> dict[str, Any]:
    try:
        body = ProviderClient.json_body(response)
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _metadata_fields(metadata: Mapping[str, str] | None) -> dict[str, str]:
    return {f"metadata[{key}]": str(value) for key, value in (metadata or {}).items()}


class StripeClient(ProviderClient):
    provider: ClassVar[str] = PROVIDER
    credentials_model: ClassVar[type[ProviderCredentials]] = StripeCredentials
    idempotency_header: ClassVar[str | None] = IDEMPOTENCY_HEADER

    credentials: StripeCredentials

    def auth_headers(self) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.credentials.api_key.get_secret_value()}"}
        if self.credentials.api_version:
            headers["Stripe-Version"] = self.credentials.api_version
        return headers

    # ----- errors -----------------------------------------------------------------------
    def error_details(self, response: httpx.Response) -> tuple[str, str | None]:
        error = _stripe_error(response)
        if not error:
            return super().error_details(response)
        code = error.get("code") or error.get("type")
        message = str(error.get("message") or error.get("type") or response.reason_phrase)
        if error.get("param"):
            message = f"{message} (param: {error['param']})"
        return (message[:300], str(code) if code else None)

    def classify(self, response: httpx.Response) -> HubError | None:
        """Stripe's error ``type`` refines the HTTP status: ``card_error`` (402) and
        ``idempotency_error`` are the caller's problem (InvalidRequestError),
        ``rate_limit_error``/429 and ``idempotency_key_in_use`` are RateLimitedError,
        ``authentication_error``/401/403 AuthenticationError, ``api_error``/5xx unavailable."""
        error = super().classify(response)
        if error is None:
            return None
        details = _stripe_error(response)
        kind, code = details.get("type"), details.get("code")
        if code == "idempotency_key_in_use":
            retry_after = parse_retry_after(response.headers.get("retry-after"), default=_KEY_IN_USE_RETRY_SECONDS)
            return error.recast(RateLimitedError, retry_after=retry_after)
        if kind == "rate_limit_error" and not isinstance(error, RateLimitedError):
            retry_after = parse_retry_after(response.headers.get("retry-after"), default=1.0)
            return error.recast(RateLimitedError, retry_after=retry_after)
        if kind == "authentication_error" and not isinstance(error, AuthenticationError):
            return error.recast(AuthenticationError)
        if kind == "api_error" and not isinstance(error, ProviderUnavailableError):
            return error.recast(ProviderUnavailableError)
        if kind in ("card_error", "idempotency_error") and not isinstance(error, InvalidRequestError):
            return error.recast(InvalidRequestError)
        return error

    # ----- customers --------------------------------------------------------------------
    def find_or_create_customer(
        self, email: str, name: str, metadata: Mapping[str, str] | None = None
    ) -> ProviderCustomer:
        """The customer with this email (Stripe's filter is case-sensitive), else a new one.
        The create carries an idempotency key derived from the email, so two concurrent
        calls create one customer."""
        response = self.request("GET", "/v1/customers", params={"email": email, "limit": 1}, operation="customers")
        payload = self.json_body(response)
        found = payload.get("data") if isinstance(payload, dict) else None
        if isinstance(found, list) and found and isinstance(found[0], dict) and found[0].get("id"):
            return ProviderCustomer(provider=self.provider, customer_id=str(found[0]["id"]), created=False)
        digest = hashlib.sha256(email.encode("utf-8")).hexdigest()[:40]
        data = {"email": email, "name": name, **_metadata_fields(metadata)}
        response = self.request(
            "POST", "/v1/customers", data=data, idempotency_key=f"customer-{digest}", operation="customers"
        )
        created = StripeObject.model_validate(self.json_body(response))
        return ProviderCustomer(provider=self.provider, customer_id=created.id, created=True)

    # ----- subscriptions ----------------------------------------------------------------
    def create_subscription(
        self,
        customer_id: str,
        price_id: str,
        idempotency_key: str,
        *,
        metadata: Mapping[str, str] | None = None,
    ) -> StripeSubscription:
        """``POST /v1/subscriptions`` for one price; the same ``idempotency_key`` never
        creates a second subscription (24 h window at Stripe)."""
        if not idempotency_key:
            raise InvalidRequestError(
                "an idempotency key is required", provider=self.provider, code="idempotency_key_required"
            )
        data = {"customer": customer_id, "items[0][price]": price_id, **_metadata_fields(metadata)}
        # A lost answer is an unknown outcome; the same key again is safe (Stripe answers the first).
        response = self.effect(
            lambda: self.request(
                "POST",
                "/v1/subscriptions",
                data=data,
                idempotency_key=idempotency_key,
                operation="subscriptions",
                effect=True,
            ),
            keyed=True,
        )
        return StripeSubscription.model_validate(self.json_body(response))

    def cancel_subscription(self, subscription_id: str) -> StripeSubscription:
        """``DELETE /v1/subscriptions/{id}``: cancelled now (status ``canceled``)."""
        response = self.request("DELETE", f"/v1/subscriptions/{subscription_id}", operation="subscriptions")
        return StripeSubscription.model_validate(self.json_body(response))

    # ----- the SubscriptionBiller port ---------------------------------------------------
    def start_subscription(self, spec: SubscriptionSpec) -> SubscriptionCreated:
        """The platform product: the customer by email (found or created), subscribed to the
        price under the caller's idempotency key."""
        if not spec.email or not spec.price_id:
            raise InvalidRequestError("stripe subscriptions need email and price_id", provider=self.provider)
        customer = self.find_or_create_customer(spec.email, spec.name or spec.email, {"org_id": spec.org_id})
        created = self.create_subscription(customer.customer_id, spec.price_id, spec.idempotency_key)
        return SubscriptionCreated(
            provider=self.provider, subscription_id=created.id, status=created.status, customer_id=customer.customer_id
        )

    def end_subscription(self, subscription_id: str) -> bool:
        """Cancelled now: Stripe answers the subscription (``canceled``) or raises."""
        self.cancel_subscription(subscription_id)
        return True

    # ----- webhook endpoint (WebhookRegistrar) ---------------------------------------------
    # https://docs.stripe.com/api/webhook_endpoints/create (POST /v1/webhook_endpoints: url,
    # enabled_events[] → the endpoint with ``secret`` whsec_…, "only returned at creation");
    # https://docs.stripe.com/api/webhook_endpoints/update (POST /v1/webhook_endpoints/{id}: url,
    # enabled_events[], disabled). Stripe keeps an Idempotency-Key per request, so retries of
    # the create apply once.
    def register_webhook(self, url: str, secret: str, *, existing_id: str | None = None) -> WebhookRegistration:
        """Stripe issues the signing secret: ``secret`` is not sent; a created endpoint's
        ``secret`` is stored as ``webhook_secret`` (:func:`verify_stripe_webhook`). An update
        (``existing_id``) answers no secret — Stripe rolls it only in the Dashboard — so the
        registration carries no secret fields and the stored one stays; an endpoint gone at
        Stripe (404) is created anew."""
        webhook_target(url, provider=self.provider)
        data: dict[str, Any] = {f"enabled_events[{i}]": event for i, event in enumerate(WEBHOOK_EVENTS)}
        data["url"] = url
        if existing_id:
            try:
                response = self.request(
                    "POST",
                    f"/v1/webhook_endpoints/{existing_id}",
                    data={**data, "disabled": "false"},
                    operation="register_webhook",
                )
            except InvalidRequestError as exc:
                if exc.http_status != 404:
                    raise
            else:
                updated = StripeObject.model_validate(self.json_body(response))
                return WebhookRegistration(provider_webhook_id=updated.id, events=WEBHOOK_EVENTS)
        data["description"] = f"integrations hub {self.org_id}" if self.org_id else "integrations hub"
        response = self.request("POST", "/v1/webhook_endpoints", data=data, operation="register_webhook")
        created = self.json_object(response)
        endpoint_id, signing_secret = created.get("id"), created.get("secret")
        if not isinstance(endpoint_id, str) or not isinstance(signing_secret, str) or not signing_secret:
            raise ProviderUnavailableError(
                "stripe created the webhook endpoint but returned no id/secret", provider=self.provider
            )
        return WebhookRegistration(
            provider_webhook_id=endpoint_id, secret_fields={"webhook_secret": signing_secret}, events=WEBHOOK_EVENTS
        )

    def health_check(self) -> None:
        self.request("GET", "/v1/customers", params={"limit": 1}, timeout=get_settings().health_check_timeout)
