"""StripeClient against Stripe's documented form-encoded requests, idempotency and error bodies
(https://docs.stripe.com/api/errors, https://docs.stripe.com/api/idempotent_requests,
https://docs.stripe.com/api/subscriptions/create, https://docs.stripe.com/api/customers/list)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from pydantic import SecretStr

from hub.errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidRequestError,
    ProviderUnavailableError,
    RateLimitedError,
)
from hub.providers.stripe.client import StripeClient, StripeCredentials
from tests.helpers import AdapterFactory, recording

KEY = "sk_test_51Hsecretkey"
CREDS = StripeCredentials(api_key=SecretStr(KEY))
SUBSCRIPTION: dict[str, Any] = {
    "id": "sub_1MowQVLkdIwHu7ixeRlqHVzs",
    "object": "subscription",
    "customer": "cus_Na6dX7aXxi11N4",
    "status": "active",
    "cancel_at_period_end": False,
    "items": {"object": "list", "data": [{"id": "si_1", "price": {"id": "price_1", "unit_amount": 4990}}]},
    "latest_invoice": "in_1MowQWLkdIwHu7ixuzkSPfKd",
    "metadata": {"org": "demo"},
}


client_with = AdapterFactory(StripeClient, CREDS, attempts=1)


def form(request: httpx.Request) -> dict[str, list[str]]:
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    return parse_qs(request.content.decode())


def stripe_error(status: int, kind: str, code: str | None = None, message: str = "error") -> httpx.Response:
    error: dict[str, Any] = {"type": kind, "message": message}
    if code:
        error["code"] = code
    return httpx.Response(status, json={"error": error})


def test_create_subscription_posts_a_form_with_the_callers_idempotency_key() -> None:
    seen, handler = recording(httpx.Response(200, json=SUBSCRIPTION))

    sub = client_with(handler).create_subscription(
        "cus_Na6dX7aXxi11N4", "price_1", "sub-demo-2026-11", metadata={"org": "demo"}
    )

    [request] = seen
    assert request.method == "POST"
    assert str(request.url) == "https://api.stripe.com/v1/subscriptions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["idempotency-key"] == "sub-demo-2026-11"
    assert form(request) == {
        "customer": ["cus_Na6dX7aXxi11N4"],
        "items[0][price]": ["price_1"],
        "metadata[org]": ["demo"],
    }
    assert sub.id == "sub_1MowQVLkdIwHu7ixeRlqHVzs"
    assert sub.status == "active"
    assert sub.customer == "cus_Na6dX7aXxi11N4"
    # Everything else Stripe answered is kept, amounts as integer centavos.
    assert sub.model_dump()["items"]["data"][0]["price"]["unit_amount"] == 4990


def test_a_retried_create_after_a_5xx_keeps_the_idempotency_key() -> None:
    seen, handler = recording(stripe_error(500, "api_error"), httpx.Response(200, json=SUBSCRIPTION))
    client_with(handler, attempts=2).create_subscription("cus_1", "price_1", "key-1")
    assert [r.headers["idempotency-key"] for r in seen] == ["key-1", "key-1"]


def test_an_empty_idempotency_key_is_refused() -> None:
    seen, handler = recording(httpx.Response(200, json=SUBSCRIPTION))
    with pytest.raises(InvalidRequestError):
        client_with(handler).create_subscription("cus_1", "price_1", "")
    assert seen == []


def test_cancel_subscription_deletes_it() -> None:
    seen, handler = recording(httpx.Response(200, json={**SUBSCRIPTION, "status": "canceled"}))
    sub = client_with(handler).cancel_subscription("sub_1MowQVLkdIwHu7ixeRlqHVzs")
    assert seen[0].method == "DELETE"
    assert seen[0].url.path == "/v1/subscriptions/sub_1MowQVLkdIwHu7ixeRlqHVzs"
    assert sub.status == "canceled"


def test_find_or_create_customer_reuses_an_existing_customer() -> None:
    listing = {"object": "list", "data": [{"id": "cus_existing", "object": "customer"}], "has_more": False}
    seen, handler = recording(httpx.Response(200, json=listing))

    customer = client_with(handler).find_or_create_customer("ana@example.com", "Ana")

    assert [r.method for r in seen] == ["GET"]
    assert seen[0].url.path == "/v1/customers"
    assert seen[0].url.params["email"] == "ana@example.com"
    assert customer.customer_id == "cus_existing"
    assert customer.created is False
    assert customer.provider == "stripe"


def test_find_or_create_customer_creates_one_idempotently() -> None:
    empty = {"object": "list", "data": [], "has_more": False}
    seen, handler = recording(httpx.Response(200, json=empty), httpx.Response(200, json={"id": "cus_new"}))
    client = client_with(handler)

    customer = client.find_or_create_customer("ana@example.com", "Ana", {"org": "demo"})
    client.find_or_create_customer("ana@example.com", "Ana", {"org": "demo"})

    posts = [r for r in seen if r.method == "POST"]
    assert form(posts[0]) == {"email": ["ana@example.com"], "name": ["Ana"], "metadata[org]": ["demo"]}
    assert posts[0].headers["idempotency-key"].startswith("customer-")
    # The same email always carries the same key: concurrent calls create one customer.
    assert posts[0].headers["idempotency-key"] == posts[1].headers["idempotency-key"]
    assert customer.customer_id == "cus_new" and customer.created is True


@pytest.mark.parametrize(
    ("response", "error_class", "code"),
    [
        (
            stripe_error(402, "card_error", "card_declined", "Your card was declined."),
            InvalidRequestError,
            "card_declined",
        ),
        (stripe_error(400, "invalid_request_error", "resource_missing"), InvalidRequestError, "resource_missing"),
        (
            stripe_error(
                400, "idempotency_error", None, "Keys for idempotent requests can only be used with the same parameters"
            ),
            InvalidRequestError,
            "idempotency_error",
        ),
        (
            stripe_error(409, "invalid_request_error", "idempotency_key_in_use"),
            RateLimitedError,
            "idempotency_key_in_use",
        ),
        (stripe_error(429, "invalid_request_error", "rate_limit"), RateLimitedError, "rate_limit"),
        (stripe_error(400, "rate_limit_error"), RateLimitedError, "rate_limit_error"),
        (
            stripe_error(401, "invalid_request_error", None, "Invalid API Key provided"),
            AuthenticationError,
            "invalid_request_error",
        ),
        (stripe_error(400, "authentication_error"), AuthenticationError, "authentication_error"),
        (stripe_error(500, "api_error"), ProviderUnavailableError, "api_error"),
        (stripe_error(402, "api_error"), ProviderUnavailableError, "api_error"),
    ],
)
def test_error_types_map_to_the_taxonomy(response: httpx.Response, error_class: type[Exception], code: str) -> None:
    _, handler = recording(response)
    with pytest.raises(error_class) as info:
        client_with(handler).create_subscription("cus_1", "price_1", "k")
    assert getattr(info.value, "code", None) == code
    assert KEY not in str(info.value)


def test_an_error_names_the_parameter() -> None:
    response = httpx.Response(
        400,
        json={
            "error": {
                "type": "invalid_request_error",
                "message": "No such price: 'price_x'",
                "param": "items[0][price]",
            }
        },
    )
    _, handler = recording(response)
    with pytest.raises(InvalidRequestError) as info:
        client_with(handler).create_subscription("cus_1", "price_x", "k")
    assert "param: items[0][price]" in info.value.message


def test_api_version_is_pinned_when_configured() -> None:
    seen, handler = recording(httpx.Response(200, json={"object": "list", "data": []}))
    creds = StripeCredentials(api_key=SecretStr(KEY), api_version="2025-04-30.basil")
    client_with(handler, creds=creds).health_check()
    assert seen[0].headers["stripe-version"] == "2025-04-30.basil"
    assert seen[0].url.path == "/v1/customers"


def test_credentials_refuse_a_publishable_key() -> None:
    with pytest.raises(ConfigurationError, match="api_key"):
        StripeClient.parse_credentials({"api_key": "pk_test_123"})
    assert StripeClient.parse_credentials({"api_key": "rk_live_1", "webhook_secret": "whsec_x"})
