"""StripeClient.register_webhook (WebhookRegistrar) against Stripe's documented calls.

https://docs.stripe.com/api/webhook_endpoints/create (``url``, ``enabled_events[]`` → the endpoint
with ``secret``, returned only at creation); https://docs.stripe.com/api/webhook_endpoints/update.
"""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx
import pytest
from pydantic import SecretStr

from hub.errors import InvalidRequestError
from hub.providers.stripe.client import WEBHOOK_EVENTS, StripeClient, StripeCredentials
from hub.providers.stripe.webhook import _MAPPING
from tests.helpers import AdapterFactory, recording

CREDS = StripeCredentials(api_key=SecretStr("sk_test_51Hsecretkey"))
HUB_URL = "https://hub.example.com/Prod/webhooks/stripe/acme"
ENDPOINT = {
    "id": "we_1Mr5jULkdIwHu7ix1ibLTM0x",
    "object": "webhook_endpoint",
    "enabled_events": list(WEBHOOK_EVENTS),
    "status": "enabled",
    "url": HUB_URL,
    "secret": "whsec_wRNftLajMZNeslQOP6vEPm4iVx5NlZ6z",
}

client_with = AdapterFactory(StripeClient, CREDS, attempts=3)


def form(request: httpx.Request) -> dict[str, list[str]]:
    return parse_qs(request.content.decode())


def test_register_webhook_creates_an_endpoint_and_stores_the_secret_stripe_issued() -> None:
    seen, handler = recording(
        httpx.Response(503, json={"error": {"type": "api_error"}}), httpx.Response(200, json=ENDPOINT)
    )

    registration = client_with(handler, org_id="acme").register_webhook(HUB_URL, "ignored")

    assert [(r.method, r.url.path) for r in seen] == [("POST", "/v1/webhook_endpoints")] * 2
    # A retry carries the same Idempotency-Key: Stripe applies the create once
    assert seen[0].headers["idempotency-key"] == seen[1].headers["idempotency-key"]
    sent = form(seen[0])
    assert sent["url"] == [HUB_URL]
    assert [sent[f"enabled_events[{i}]"][0] for i in range(len(WEBHOOK_EVENTS))] == list(WEBHOOK_EVENTS)
    assert set(WEBHOOK_EVENTS) == set(_MAPPING)
    assert registration.provider_webhook_id == ENDPOINT["id"]
    assert dict(registration.secret_fields) == {"webhook_secret": ENDPOINT["secret"]}


def test_an_update_keeps_the_stored_secret_stripe_answers_none() -> None:
    updated = {key: value for key, value in ENDPOINT.items() if key != "secret"}
    seen, handler = recording(httpx.Response(200, json=updated))
    registration = client_with(handler).register_webhook(HUB_URL, "ignored", existing_id=ENDPOINT["id"])
    assert [(r.method, r.url.path) for r in seen] == [("POST", f"/v1/webhook_endpoints/{ENDPOINT['id']}")]
    assert form(seen[0])["disabled"] == ["false"]
    assert registration.provider_webhook_id == ENDPOINT["id"] and dict(registration.secret_fields) == {}


def test_an_endpoint_deleted_at_stripe_is_created_anew() -> None:
    missing = {
        "error": {"type": "invalid_request_error", "code": "resource_missing", "message": "No such webhook endpoint"}
    }
    seen, handler = recording(httpx.Response(404, json=missing), httpx.Response(200, json=ENDPOINT))
    registration = client_with(handler).register_webhook(HUB_URL, "ignored", existing_id="we_gone")
    assert [r.url.path for r in seen] == ["/v1/webhook_endpoints/we_gone", "/v1/webhook_endpoints"]
    assert dict(registration.secret_fields) == {"webhook_secret": ENDPOINT["secret"]}


def test_stripes_refusal_is_an_invalid_request() -> None:
    invalid = {"error": {"type": "invalid_request_error", "message": "Invalid URL", "param": "url"}}
    with pytest.raises(InvalidRequestError) as info:
        client_with(lambda r: httpx.Response(400, json=invalid)).register_webhook(HUB_URL, "ignored")
    assert "url" in info.value.message
